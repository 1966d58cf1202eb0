package image

import (
	"fmt"
	"strings"
)

// Markdown returns the format's documentation: the framing, the version
// policy, and every record type with its fields. FORMAT.md is this text;
// TestFormatDoc keeps the two the same.
func Markdown() string {
	version := fmt.Sprintf("%d.%d", VersionMajor, VersionMinor)
	readable := version
	if VersionMinor > 0 {
		readable = fmt.Sprintf("%d.0 to %s", VersionMajor, version)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The ckptsim image format, version %d.%d\n\n", VersionMajor, VersionMinor)
	b.WriteString(`<!-- Generated from the record definitions (image.Define, in the package of
     each type of object) by TestFormatDoc in package ckpt; run
     go test ./ckpt -run TestFormatDoc -update   to rewrite it. -->

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

## Compression

A checkpoint may compress its image (Engine.Compress): the HEADER record
stays as it is, with flag 0x10000 (FlagZstd) set, and every record after
it is a Zstandard stream (one frame). Offsets, lengths and the tail's
checksum are those of the records before compression, so a compressed
image holds exactly the records of its plain form. Restart, show, diff,
graph and encode read both kinds alike. A reader of a compressed image
reads the stream in blocks, so it may consume bytes past the image's end.

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
gives the same image. Each record type's section says where its records go.

Restart accepts only canonical images, those a checkpoint could have
written: each OBJREF record introduces the next objref (n+1 after n), right
before the record that first refers to it (a record's objref fields say
which object types may come before it), and that record must refer to it;
an object whose state follows the record that first refers to it (a pipe)
is introduced right after that record. So the world an accepted image
restores checkpoints back to the same image. Restart reads nothing after
the TAIL record: a stream may carry more after an image.

## Versions

The header carries a major and a minor version. This is version ` + version + `;
restart reads ` + readable + ` and refuses anything else, naming both the
image's version and its own.

What a change is:

- **Compatible (minor)**: images of the older minor still mean the same to
  the new reader. Adding a record type that only some images hold, giving
  meaning to a field or flag bit that was always zero, accepting a value
  that was refused before. The writer's minor goes up by one.
- **Incompatible (major)**: an image of the old version would be misread,
  or cannot be read, by the new code. A field widened, moved or removed, a
  record reordered or split, a meaning changed, a record's length bounds
  changed. The major goes up by one and the minor returns to 0.

What a reader does:

- An image of its own major and an older or equal minor is read. Where a
  record changed between minors, the reader converts the older record to
  the newer form, in explicit conversion code beside the record's
  decoding, keyed by the minor it converts from, so the rest of restart
  sees one form only.
- An image of another major, or of a newer minor than the reader's own, is
  refused with EINVAL and a message that names both versions: a newer minor
  may say things the reader cannot know it misses.

How a change is made, and checked:

1. Before changing anything, make sure golden/testdata/compat/VERSION
   holds the images of the version being replaced, with the scripts that
   made them (` + "`make compat`" + ` keeps them, from the running code): images
   of every released version stay there for good.
2. Change the records (records.go) and the code that writes and reads
   them. ` + "`go test ./...`" + ` fails in golden: every golden image the change
   moved is named, with a record-level diff (which record, which field, old
   and new value), and FORMAT.md no longer matches the code.
3. Decide minor or major by the rules above, and set VersionMajor and
   VersionMinor. The compat test restarts every kept image with the new
   code: those of the same major and an older minor must restart and give
   the world their script builds; those of another major must be refused,
   naming both versions.
4. ` + "`make golden`" + ` rewrites the golden images and their Show text in
   golden/testdata/golden, and ` + "`go test ./ckpt -run TestFormatDoc -update`" + ` rewrites
   this file; review both diffs.

` + "`make format-change`" + ` shows the harness at work: it widens a field, and
separately reorders two records, in a scratch copy of the tree and prints
what the golden test says of each.

## Adding an object type

A type of shared object (a socket pair, say) brings its own records: Go
structs whose memory is their encoding, each registered with image.Define
beside the struct, with what each field means (enum names, flag sets,
which fields are objrefs and of which object type, and whether that
object's state comes after the record rather than before it), how its tail
splits, and what the summary counts. This file, show, JSON, encode, diff
and graph read them from there. Its object type gets a number no other
type has, which OBJREF records carry; its operations (checkpoint, restore,
collect, complete) are registered with package object, and restart accepts
an OBJREF of that type only right before a record with an objref field of
it. New record types are a minor version step. The README's "Adding an
object type" follows sockets through every step.

## Record types

`)
	for _, s := range Specs() {
		fmt.Fprintf(&b, "### %d %s\n\n%s\n\n", s.Type, s.Name, s.Doc)
		if s.Place != "" {
			fmt.Fprintf(&b, "Where: %s\n\n", s.Place)
		}
		if fields := s.Fields(); len(fields) > 0 {
			fmt.Fprintf(&b, "Fixed part, %d bytes:\n\n| offset | size | type | field | meaning |\n| --- | --- | --- | --- | --- |\n", s.FixedSize())
			for _, f := range fields {
				fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", f.Offset, f.Size, f.Kind, f.Name, strings.ReplaceAll(f.Doc, "|", `\|`))
			}
			b.WriteString("\n")
		}
		if s.Tail.Doc != "" {
			fmt.Fprintf(&b, "Tail: %s, %d to %d bytes.\n\n", s.Tail.Doc, s.Tail.Min, s.Tail.Max)
		}
	}
	return b.String()
}
