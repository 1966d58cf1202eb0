package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"reflect"
)

// ReadAll reads every record of an image up to the end of the stream,
// checking only the framing (known types, lengths within bounds, zero
// padding): it is for tools that inspect or edit images, not for restart.
func ReadAll(r io.Reader) ([]*Record, error) {
	rd := NewReader(r)
	defer rd.Close()
	var out []*Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// SetFixed replaces the record's fixed part with v, a value of or pointer to
// the type's fixed struct.
func (r *Record) SetFixed(v any) error {
	s := SpecOf(r.Type)
	if s == nil || s.Fixed == nil || reflect.Indirect(reflect.ValueOf(v)).Type() != s.Fixed {
		return fmt.Errorf("image: setting the fixed part of a %v record to a %T", r.Type, v)
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
		return err
	}
	r.Fixed = b.Bytes()
	return nil
}

// Encode writes records as an image. With fixCRC, every tail record's
// checksum is recomputed over the bytes before it, so that an edited image
// gets past the checksum to the checks behind it; otherwise tails are
// written as they are. Records are written exactly as given: Encode checks
// nothing, so that tests can build malformed images.
func Encode(recs []*Record, fixCRC bool) []byte {
	var out bytes.Buffer
	for _, r := range recs {
		fixed := r.Fixed
		if r.Type == TypeTail && fixCRC && len(fixed) >= 12 {
			fixed = append([]byte(nil), fixed...)
			binary.LittleEndian.PutUint32(fixed[8:], crc32Of(out.Bytes()))
		}
		n := len(fixed) + len(r.Tail)
		var hdr [headerSize]byte
		binary.LittleEndian.PutUint32(hdr[0:], uint32(r.Type))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(n))
		out.Write(hdr[:])
		out.Write(fixed)
		out.Write(r.Tail)
		out.Write(make([]byte, pad(n)))
	}
	return out.Bytes()
}
