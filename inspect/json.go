package inspect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// The JSON form of a report is an object:
//
//	{"records": [
//	  {"index": 0, "offset": 0, "type": "HEADER", "length": 360,
//	   "fields": {"Magic": "CKPTSIM", "Major": 1, ...},
//	   "symbols": {"Time": "2023-11-14T22:13:20Z"}},
//	  {"index": 9, ..., "type": "FD", ..., "of": "file table #1",
//	   "fields": {"Fd": 0, "File": 3, "CloseOnExec": 0, "Pad": 0}, "marks": {"File": "first"}},
//	  {..., "type": "PIPE_BUF", ..., "tail": "in flight"},
//	  {..., "type": "REGS", ..., "of": "pid 1", "fields": {"Regs.R15": 0, ..., "Regs.Rip": 4198400, ...}},
//	  ...
//	 ],
//	 "error": {"offset": 1136, "message": "..."},   only for a cut or malformed image
//	 "summary": {...}}
//
// One record per line, so that images diff and edit well. Every field of the
// fixed part is there, in the format's order, with its raw value: integers
// as JSON numbers (any width, exactly), byte arrays as strings when they
// hold NUL-padded text and as arrays of byte values otherwise. The tail is
// a string when it is printable UTF-8 text, else {"hex": "..."}; no tail
// means an empty one. Every field has its name from the record type's spec,
// a nested one with dots and brackets ("Regs.Rip", "FPU.ST[3].Mantissa").
// Only "type", "fields" and "tail" are read back by Encode; the rest
// ("of" says what the record belongs to, as Show's column) is annotation.

// jsonRecord is one record of the JSON form, as written.
type jsonRecord struct {
	Index   int               `json:"index"`
	Offset  int64             `json:"offset"`
	Type    string            `json:"type"`
	Length  int               `json:"length"`
	Of      string            `json:"of,omitempty"`
	Fields  fieldList         `json:"fields,omitempty"`
	Tail    *jsonTail         `json:"tail,omitempty"`
	Marks   map[string]string `json:"marks,omitempty"`
	Symbols map[string]string `json:"symbols,omitempty"`
}

// jsonError is a cut or malformed image's error.
type jsonError struct {
	Offset  int64  `json:"offset"` // -1 when the error has none
	Message string `json:"message"`
}

// fieldList is the fixed part's fields as a JSON object in the format's
// field order (a map would sort them).
type fieldList []jsonField

type jsonField struct {
	Name  string
	Value json.RawMessage
}

// MarshalJSON writes the fields as one object, in order.
func (l fieldList) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := marshal(f.Name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(f.Value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonTail is a tail: a string when it is printable text, else hex.
type jsonTail struct {
	Bytes []byte
}

// MarshalJSON writes the tail as a string or as {"hex": "..."}.
func (t *jsonTail) MarshalJSON() ([]byte, error) {
	if printable(t.Bytes) {
		return marshal(string(t.Bytes))
	}
	return marshal(map[string]string{"hex": hex.EncodeToString(t.Bytes)})
}

// ShowJSON prints what an image holds as JSON (see the shape above), from
// which Encode rebuilds the identical image. For a cut or malformed image it
// prints the records read before the fault and the error, and returns the
// error.
func ShowJSON(w io.Writer, img io.Reader) error {
	rep, _ := Inspect(img)
	if err := rep.WriteJSON(w); err != nil {
		return err
	}
	return rep.Err
}

// WriteJSON prints the report as ShowJSON does. Its error is w's.
func (rep *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{\"records\": [")
	for i, r := range rep.Records {
		line, err := marshal(r.json())
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(line)
	}
	bw.WriteString("\n ]")
	if rep.Err != nil {
		je := jsonError{Offset: -1, Message: rep.Err.Error()}
		var ie *image.Error
		if errors.As(rep.Err, &ie) {
			je.Offset = ie.Offset
		}
		line, _ := marshal(je)
		bw.WriteString(",\n \"error\": ")
		bw.Write(line)
	}
	summary, err := marshal(rep.Summary)
	if err != nil {
		return err
	}
	var indented bytes.Buffer
	json.Indent(&indented, summary, " ", "  ")
	bw.WriteString(",\n \"summary\": ")
	bw.Write(indented.Bytes())
	bw.WriteString("}\n")
	return bw.Flush()
}

// json returns the record's JSON form.
func (r *Record) json() *jsonRecord {
	jr := &jsonRecord{Index: r.Index, Offset: r.Offset, Type: r.Type.String(), Length: r.Length, Of: r.Owner()}
	for _, f := range r.Fields {
		jr.Fields = append(jr.Fields, jsonField{f.Name, f.jsonValue()})
		if f.Symbol != "" {
			jr.symbol(f.Name, f.Symbol)
		}
		if f.Mark != "" {
			if jr.Marks == nil {
				jr.Marks = map[string]string{}
			}
			jr.Marks[f.Name] = f.Mark
		}
	}
	if len(r.Tail) > 0 {
		jr.Tail = &jsonTail{r.Tail}
	}
	return jr
}

func (jr *jsonRecord) symbol(name, text string) {
	if jr.Symbols == nil {
		jr.Symbols = map[string]string{}
	}
	jr.Symbols[name] = text
}

// jsonValue is a field's raw value as JSON: a number, a string for a
// NUL-padded text, or an array of byte values.
func (f *Field) jsonValue() json.RawMessage {
	if f.IsArray() {
		if s, ok := nulText(f.Bytes); ok {
			b, _ := marshal(s)
			return b
		}
		vals := make([]int, len(f.Bytes))
		for i, c := range f.Bytes {
			vals[i] = int(c)
		}
		b, _ := marshal(vals)
		return b
	}
	if f.Signed() {
		return json.RawMessage(strconv.FormatInt(f.Int(), 10))
	}
	return json.RawMessage(strconv.FormatUint(f.Bits, 10))
}

// marshal is json.Marshal without HTML escaping: a path with "&" or "<" in
// it reads as it is.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
