package inspect_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/testworld"
)

// imageOf is the image of the world a script builds, rooted at pid 1.
func imageOf(t testworld.T, script string) []byte {
	t.Helper()
	return testworld.Image(t, testworld.Build(t, script))
}

// records reads an image's records.
func records(t *testing.T, img []byte) []*image.Record {
	t.Helper()
	recs, err := image.ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	return recs
}

// setField changes one field of a record's fixed part.
func setField(t *testing.T, rec *image.Record, name string, v any) {
	t.Helper()
	fixed := reflect.New(image.SpecOf(rec.Type).Fixed)
	require.NoError(t, rec.Decode(fixed.Interface()))
	f := fixed.Elem().FieldByName(name)
	require.True(t, f.IsValid(), "no field %s", name)
	f.Set(reflect.ValueOf(v).Convert(f.Type()))
	require.NoError(t, rec.SetFixed(fixed.Interface()))
}
