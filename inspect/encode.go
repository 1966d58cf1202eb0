package inspect

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// EncodeOptions change what Encode writes.
type EncodeOptions struct {
	// FixCRC recomputes every tail record's checksum over the bytes before
	// it, so that an edited image gets past the checksum to the checks
	// behind it. Without it the CRC field is written as given.
	FixCRC bool
}

// Encode reads the JSON form of an image, as ShowJSON prints it and
// perhaps edited by hand, and writes the image: the identical bytes for
// unedited JSON. It reads each record's "type", "fields" (by name) and
// "tail", and ignores the annotations and the summary.
//
// It refuses what the JSON gets wrong, naming the record's index and the
// field: an unknown record type, an unknown, missing or repeated field, a
// value that is not an integer or does not fit the field's width, a string
// longer than its byte array; and the JSON of a compressed image (its
// header's Flags say zstd), since it writes records plain: without that
// flag, the JSON encodes to the same image uncompressed. It does not check the format's own rules
// (lengths, order, pad fields, objrefs): an image that breaks them is
// written as asked, for tests of the reader, which refuses it.
func Encode(w io.Writer, r io.Reader) error {
	return EncodeWith(w, r, EncodeOptions{})
}

// EncodeWith is Encode with options.
func EncodeWith(w io.Writer, r io.Reader, opts EncodeOptions) error {
	recs, err := parseJSON(r)
	if err != nil {
		return err
	}
	if len(recs) > 0 && recs[0].Type == image.TypeHeader {
		var h image.Header
		if recs[0].Decode(&h) == nil && h.Flags&image.FlagZstd != 0 {
			return fmt.Errorf("inspect: record 0 (HEADER): Flags %d say the records after it are compressed (%#x), "+
				"and Encode writes them plain: take %#x out of Flags (%d) for the same image uncompressed",
				h.Flags, image.FlagZstd, image.FlagZstd, h.Flags&^image.FlagZstd)
		}
	}
	_, err = w.Write(image.Encode(recs, opts.FixCRC))
	return err
}

// encImage is the JSON form as Encode reads it.
type encImage struct {
	Records []json.RawMessage `json:"records"`
	Error   json.RawMessage   `json:"error"`
	Summary json.RawMessage   `json:"summary"`
}

// encRecord is one record as Encode reads it; the annotations are accepted
// and ignored, so that ShowJSON's output reads back as it is.
type encRecord struct {
	Type    *string         `json:"type"`
	Fields  json.RawMessage `json:"fields"`
	Tail    json.RawMessage `json:"tail"`
	Index   json.RawMessage `json:"index"`
	Offset  json.RawMessage `json:"offset"`
	Length  json.RawMessage `json:"length"`
	Of      json.RawMessage `json:"of"`
	Marks   json.RawMessage `json:"marks"`
	Symbols json.RawMessage `json:"symbols"`
}

// strictDecode decodes one JSON value into v, refusing unknown keys and
// anything after the value.
func strictDecode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func parseJSON(r io.Reader) ([]*image.Record, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inspect: reading JSON: %w", err)
	}
	var img encImage
	if err := strictDecode(data, &img); err != nil {
		return nil, fmt.Errorf("inspect: JSON image: %s", clipMessage(err))
	}
	if img.Records == nil {
		return nil, errors.New(`inspect: JSON image: no "records"`)
	}
	var recs []*image.Record
	for i, raw := range img.Records {
		rec, err := parseRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("inspect: record %d%s", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// parseRecord builds one record. Its errors start with what follows
// "record N" in the message: the type, then what is wrong.
func parseRecord(raw json.RawMessage) (*image.Record, error) {
	var er encRecord
	if err := strictDecode(raw, &er); err != nil {
		return nil, fmt.Errorf(": %s", clipMessage(err))
	}
	if er.Type == nil {
		return nil, errors.New(`: no "type"`)
	}
	// Looked up now, not at init: a record type defined after this
	// package's init (by a package imported later) is as known as any.
	s := image.SpecNamed(*er.Type)
	if s == nil {
		return nil, fmt.Errorf(": unknown record type %s", quoteShort([]byte(*er.Type)))
	}
	t := s.Type
	fixed, err := parseFields(s, er.Fields)
	if err != nil {
		return nil, fmt.Errorf(" (%s): %v", s.Name, err)
	}
	tail, err := parseTail(er.Tail)
	if err != nil {
		return nil, fmt.Errorf(" (%s): tail: %v", s.Name, err)
	}
	return &image.Record{Type: t, Fixed: fixed, Tail: tail}, nil
}

// parseFields builds a fixed part from the "fields" object: every field of
// the type, each once, and nothing else.
func parseFields(s *image.Spec, raw json.RawMessage) ([]byte, error) {
	pairs, err := objectPairs(raw)
	if err != nil {
		return nil, fmt.Errorf("fields: %v", err)
	}
	fields := s.Fields()
	byName := map[string]image.Field{}
	var names []string
	for _, f := range fields {
		byName[f.Name] = f
		names = append(names, f.Name)
	}
	fixed := make([]byte, s.FixedSize())
	set := map[string]bool{}
	for _, p := range pairs {
		f, ok := byName[p.Name]
		if !ok {
			if len(names) == 0 {
				return nil, fmt.Errorf("unknown field %s: a %s record has no fields", quoteShort([]byte(p.Name)), s.Name)
			}
			return nil, fmt.Errorf("unknown field %s (a %s record has %s)", quoteShort([]byte(p.Name)), s.Name, strings.Join(names, ", "))
		}
		if set[p.Name] {
			return nil, fmt.Errorf("field %q given twice", p.Name)
		}
		set[p.Name] = true
		if err := putField(fixed[f.Offset:f.Offset+f.Size], f, p.Value); err != nil {
			return nil, fmt.Errorf("field %q: %v", p.Name, err)
		}
	}
	for _, f := range fields {
		if !set[f.Name] {
			return nil, fmt.Errorf("missing field %q", f.Name)
		}
	}
	return fixed, nil
}

// objectPairs returns a JSON object's members in order, keeping repeated
// names (which encoding/json would silently merge). Null or nothing is an
// empty object.
func objectPairs(raw json.RawMessage) ([]jsonField, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("expected an object")
	}
	var out []jsonField
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, errors.New(clipMessage(err))
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, errors.New(clipMessage(err))
		}
		out = append(out, jsonField{tok.(string), v})
	}
	return out, nil
}

// putField writes one field's value: an integer of the field's width, or a
// byte array given as a string (NUL-padded) or as byte values.
func putField(dst []byte, f image.Field, v json.RawMessage) error {
	if f.Kind[0] == '[' {
		return putArray(dst, v)
	}
	s := string(bytes.TrimSpace(v))
	bits := f.Size * 8
	if f.Kind[0] == 'i' {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return intError(s, f, err)
		}
		putUint(dst, uint64(n))
		return nil
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return intError(s, f, err)
	}
	putUint(dst, n)
	return nil
}

func intError(s string, f image.Field, err error) error {
	if errors.Is(err, strconv.ErrRange) || (strings.HasPrefix(s, "-") && f.Kind[0] == 'u' && isInteger(s[1:])) {
		return fmt.Errorf("%s is out of range for %s", rawShort([]byte(s)), f.Kind)
	}
	return fmt.Errorf("expected an integer (%s), found %s", f.Kind, rawShort([]byte(s)))
}

func isInteger(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// putArray writes a byte array: a string, padded with NULs, or an array of
// byte values, padded with zeros.
func putArray(dst []byte, v json.RawMessage) error {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if len(s) > len(dst) {
			return fmt.Errorf("%d bytes of text do not fit in %d", len(s), len(dst))
		}
		copy(dst, s)
		return nil
	}
	var vals []json.Number
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&vals); err != nil {
		return fmt.Errorf("expected a string or an array of byte values, found %s", rawShort(v))
	}
	if len(vals) > len(dst) {
		return fmt.Errorf("%d byte values do not fit in %d", len(vals), len(dst))
	}
	for i, n := range vals {
		b, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return fmt.Errorf("byte %d: %s is not a byte value (0..255)", i, n)
		}
		dst[i] = byte(b)
	}
	return nil
}

// parseTail reads a tail: a string, {"hex": "..."}, or nothing.
func parseTail(v json.RawMessage) ([]byte, error) {
	if len(v) == 0 || string(bytes.TrimSpace(v)) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return []byte(s), nil
	}
	var h struct {
		Hex *string `json:"hex"`
	}
	if err := strictDecode(v, &h); err != nil || h.Hex == nil {
		return nil, fmt.Errorf(`expected a string or {"hex": "..."}, found %s`, rawShort(v))
	}
	b, err := hex.DecodeString(*h.Hex)
	if err != nil {
		return nil, fmt.Errorf("bad hex: %s", clipMessage(err))
	}
	return b, nil
}

// Errors quote what the JSON got wrong, but never more than shortLen bytes
// of it: a hand-edited image can hold a megabyte-long string, which an
// error would otherwise print on one line. quoteShort (render.go) quotes a
// name or string that way; rawShort and clipMessage below cut a raw JSON
// value and a decoder's message, saying how long each was.

// rawShort returns a JSON value as it was written, cut after shortLen bytes
// with its length said.
func rawShort(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) <= shortLen {
		return string(v)
	}
	return fmt.Sprintf("%s... (%d bytes)", cutUTF8(v, shortLen), len(v))
}

// maxMessage bounds an error message from encoding/json or encoding/hex,
// which quote the offending key or byte whole.
const maxMessage = 2 * shortLen

// clipMessage returns err's message, cut after maxMessage bytes with its
// length said.
func clipMessage(err error) string {
	msg := err.Error()
	if len(msg) <= maxMessage {
		return msg
	}
	return fmt.Sprintf("%s... (a %d-byte message)", cutUTF8([]byte(msg), maxMessage), len(msg))
}

// cutUTF8 returns at most n bytes of b, not ending inside a UTF-8 sequence.
func cutUTF8(b []byte, n int) []byte {
	b = b[:n]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}
