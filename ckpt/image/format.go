package image

import (
	"fmt"
	"reflect"
	"strings"
)

// Field is one field of a record type's fixed part.
type Field struct {
	Name   string
	Offset int // from the start of the payload
	Size   int
	Kind   string // u16, i32, [16]byte, ...
	Doc    string
}

// Fields lists the fields of the record type's fixed part.
func (s *Spec) Fields() []Field {
	if s.Fixed == nil {
		return nil
	}
	var out []Field
	for i := range s.Fixed.NumField() {
		f := s.Fixed.Field(i)
		out = append(out, Field{
			Name: f.Name, Offset: int(f.Offset), Size: int(f.Type.Size()),
			Kind: kindName(f.Type), Doc: f.Tag.Get("doc"),
		})
	}
	return out
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), kindName(t.Elem()))
	case reflect.Uint8:
		return "byte"
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("u%d", t.Bits())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("i%d", t.Bits())
	}
	return t.String()
}

// Markdown returns the format's documentation: the framing, the version
// policy, and every record type with its fields. FORMAT.md is this text;
// TestFormatDoc keeps the two the same.
func Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The ckptsim image format, version %d.%d\n\n", VersionMajor, VersionMinor)
	b.WriteString(`<!-- Generated from ckpt/image/records.go by TestFormatDoc; run
     go test ./ckpt/image -update   to rewrite it after changing the records. -->

An image is a stream of records, written and read strictly in sequence (no
seeking), so that it can flow from one kernel's checkpoint straight into
another's restart.

## Records

Every record is an 8-byte header, a payload and zero padding to the next
multiple of 8 bytes. All integers are little-endian, of the width given, on
every architecture.

| offset | size | field | meaning |
| --- | --- | --- | --- |
| 0 | 4 | type | the record type (below) |
| 4 | 4 | length | the payload's length, without header and padding |
| 8 | length | payload | the type's fixed part, then its variable tail |
| 8+length | 0..7 | padding | zero bytes |

A reader checks, before it allocates anything, that the type is known and
that the length lies within the type's bounds; it checks that padding is
zero, and refuses anything else with an error naming the record's offset.

## Order

    HEADER ARCH
    TREE TASK...                      the task tree, in preorder
    for each task, in the same order:
        [OBJREF FILE_TABLE (objects... FD)...]   first encounter of its file table
        [OBJREF FS]                              first encounter of its fs state
        TASK_OBJS REGS
    TAIL                              or ERROR, when checkpoint failed

Inside a file table, each FD record comes after the records of its file
when the file is met for the first time: OBJREF (type file), the ghost of an
unlinked file (OBJREF, GHOST), then FILE. A pipe's state follows the FILE
record of the first file open on it: OBJREF (type pipe), PIPE, PIPE_BUF...
Objrefs count from 1 in order of first encounter, so the same world always
gives the same image.

## Versions

The header carries a major and a minor version.

- A **minor** change is compatible: an older reader's images are still read
  by a newer reader. Adding a record type that only some images hold, or
  giving meaning to a field that was zero, is minor. A reader reads every
  older minor of its major, through explicit conversion code wherever a
  record changed, and refuses a newer minor than its own, because it
  cannot know what the new version says.
- A **major** change is incompatible: a field widened, moved or removed, a
  record reordered, a meaning changed. A reader refuses any major but its
  own.
- A refusal names both versions: the image's and the reader's.
- Images of every released version live in ` + "`testdata/compat/`" + ` and
  a test restarts each of them; when the format moves on, the previous
  version's images are added there.

## Record types

`)
	for _, s := range Specs {
		fmt.Fprintf(&b, "### %d %s\n\n%s\n\n", s.Type, s.Name, s.Doc)
		if fields := s.Fields(); len(fields) > 0 {
			fmt.Fprintf(&b, "Fixed part, %d bytes:\n\n| offset | size | type | field | meaning |\n| --- | --- | --- | --- | --- |\n", s.FixedSize())
			for _, f := range fields {
				fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", f.Offset, f.Size, f.Kind, f.Name, strings.ReplaceAll(f.Doc, "|", `\|`))
			}
			b.WriteString("\n")
		}
		if s.Tail != "" {
			fmt.Fprintf(&b, "Tail: %s, %d to %d bytes.\n\n", s.Tail, s.MinTail, s.MaxTail)
		}
	}
	return b.String()
}
