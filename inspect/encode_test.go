package inspect_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/testworld"
)

// TestEncodeErrors edits the demo's JSON as a person might get it wrong:
// each mistake is refused with the record's index and the field.
func TestEncodeErrors(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	js, err := toJSON(t, img)
	require.NoError(t, err)
	// The first TASK record is record 3, the first FILE record 10.
	task := `"fields":{"Pid":1,"PPid":0,"State":0,"ExitCode":0,"Comm":"init"}`
	require.Contains(t, js, task)
	edit := func(old, new string) string {
		t.Helper()
		require.Contains(t, js, old)
		return strings.Replace(js, old, new, 1)
	}
	cases := []struct {
		name, json, want string
	}{
		{"unknown record type", edit(`"type":"TASK"`, `"type":"TASKS"`),
			`inspect: record 3: unknown record type "TASKS"`},
		{"no record type", edit(`"type":"TASK",`, ``),
			`inspect: record 3: no "type"`},
		{"unknown field", edit(`"PPid":0`, `"Ppid":0`),
			`inspect: record 3 (TASK): unknown field "Ppid" (a TASK record has Pid, PPid, State, ExitCode, Comm)`},
		{"field of a record type without fields", edit(`"type":"TAIL","length":16,`, `"type":"ERROR","length":16,`),
			fmt.Sprintf(`inspect: record %d (ERROR): unknown field "Magic": a ERROR record has no fields`, len(records(t, img))-1)},
		{"missing field", edit(`"ExitCode":0,"Comm"`, `"Comm"`),
			`inspect: record 3 (TASK): missing field "ExitCode"`},
		{"field given twice", edit(`"Pid":1,`, `"Pid":1,"Pid":2,`),
			`inspect: record 3 (TASK): field "Pid" given twice`},
		{"too big for i32", edit(`"Pid":1,`, `"Pid":2147483648,`),
			`inspect: record 3 (TASK): field "Pid": 2147483648 is out of range for i32`},
		{"too small for i32", edit(`"Pid":1,`, `"Pid":-2147483649,`),
			`inspect: record 3 (TASK): field "Pid": -2147483649 is out of range for i32`},
		{"negative for u32", edit(`"State":0,`, `"State":-1,`),
			`inspect: record 3 (TASK): field "State": -1 is out of range for u32`},
		{"too big for u16", edit(`"FileType":1,`, `"FileType":65536,`),
			`inspect: record 11 (FILE): field "FileType": 65536 is out of range for u16`},
		{"too big for u64", edit(`"Changes":1}`, `"Changes":18446744073709551616}`),
			`inspect: record 11 (FILE): field "Changes": 18446744073709551616 is out of range for u64`},
		{"not an integer", edit(`"Pid":1,`, `"Pid":1.5,`),
			`inspect: record 3 (TASK): field "Pid": expected an integer (i32), found 1.5`},
		{"a string for an integer", edit(`"Pid":1,`, `"Pid":"1",`),
			`inspect: record 3 (TASK): field "Pid": expected an integer (i32), found "1"`},
		{"text too long", edit(`"Comm":"init"`, `"Comm":"a name of seventeen"`),
			`inspect: record 3 (TASK): field "Comm": 19 bytes of text do not fit in 16`},
		{"not a byte value", edit(`"Comm":"init"`, `"Comm":[105,110,256]`),
			`inspect: record 3 (TASK): field "Comm": byte 2: 256 is not a byte value (0..255)`},
		{"bad hex tail", edit(`"tail":"in flight"`, `"tail":{"hex":"0g"}`),
			`inspect: record 18 (PIPE_BUF): tail: bad hex: encoding/hex: invalid byte: U+0067 'g'`},
		{"tail neither string nor hex", edit(`"tail":"in flight"`, `"tail":17`),
			`inspect: record 18 (PIPE_BUF): tail: expected a string or {"hex": "..."}, found 17`},
		{"unknown record key", edit(`"tail":"in flight"`, `"tial":"in flight"`),
			`inspect: record 18: json: unknown field "tial"`},
		{"no records", `{"summary": {}}`,
			`inspect: JSON image: no "records"`},
		{"not JSON", `{"records": [`,
			`inspect: JSON image: unexpected EOF`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := encode(c.json, inspect.EncodeOptions{})
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
		})
	}
}

// TestEncodeErrorsQuoteShort: a megabyte of bad input is quoted as its
// first bytes and its length, never whole on one line.
func TestEncodeErrorsQuoteShort(t *testing.T) {
	js, err := toJSON(t, imageOf(t, testworld.Demo))
	require.NoError(t, err)
	long := strings.Repeat("x", 1<<20)
	digits := strings.Repeat("9", 1<<20)
	prefix := `"` + strings.Repeat("x", 60) + `"...`
	cases := []struct {
		name, old, new, want string
	}{
		{"record type", `"type":"TASK"`, `"type":"` + long + `"`,
			`inspect: record 3: unknown record type ` + prefix + ` (1048576 bytes)`},
		{"field name", `"PPid":0`, `"` + long + `":0`,
			`inspect: record 3 (TASK): unknown field ` + prefix + ` (1048576 bytes) (a TASK record has Pid, PPid, State, ExitCode, Comm)`},
		{"integer value", `"Pid":1,`, `"Pid":"` + long + `",`,
			`inspect: record 3 (TASK): field "Pid": expected an integer (i32), found "` + strings.Repeat("x", 59) + `... (1048578 bytes)`},
		{"out of range", `"Pid":1,`, `"Pid":` + digits + `,`,
			`inspect: record 3 (TASK): field "Pid": ` + strings.Repeat("9", 60) + `... (1048576 bytes) is out of range for i32`},
		{"byte array", `"Comm":"init"`, `"Comm":{"x":"` + long + `"}`,
			`inspect: record 3 (TASK): field "Comm": expected a string or an array of byte values, found {"x":"` + strings.Repeat("x", 54) + `... (1048584 bytes)`},
		{"record key", `"tail":"in flight"`, `"` + long + `":"in flight"`,
			`inspect: record 18: json: unknown field "` + strings.Repeat("x", 99) + `... (a 1048598-byte message)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Contains(t, js, c.old)
			_, err := encode(strings.Replace(js, c.old, c.new, 1), inspect.EncodeOptions{})
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			assert.Less(t, len(err.Error()), 300)
		})
	}
}

// TestEncodeLenient: what is well-formed JSON for the records is written as
// asked, even when the image breaks the format's rules, so that tests of the
// reader can build such images; the annotations are not needed.
func TestEncodeLenient(t *testing.T) {
	img, err := encode(`{"records": [
		{"type": "TREE", "fields": {"Tasks": 4294967295, "Pad": 7}},
		{"type": "ERROR", "tail": {"hex": "00ff"}},
		{"type": "TASK", "fields": {"Pid": -1, "PPid": 0, "State": 9, "ExitCode": 0, "Comm": [104, 105]}, "tail": "extra"}
	]}`, inspect.EncodeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []byte{
		10, 0, 0, 0, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0,
		4, 0, 0, 0, 2, 0, 0, 0, 0x00, 0xff, 0, 0, 0, 0, 0, 0,
		11, 0, 0, 0, 37, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0,
		'h', 'i', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'e', 'x', 't', 'r', 'a', 0, 0, 0,
	}, img)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeWriteError(t *testing.T) {
	err := inspect.Encode(failingWriter{}, strings.NewReader(`{"records": []}`))
	assert.EqualError(t, err, "disk full")
}
