package main

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/inspect"
)

// TestSharedTableSavedOnce: a table shared by every task is one FILE_TABLE
// record and one FILE record per file, and each further task adds only its
// own records.
func TestSharedTableSavedOnce(t *testing.T) {
	ms, err := measureAll()
	require.NoError(t, err)
	a, s := ms.Alone, ms.Shared
	require.Equal(t, 1, a.Tasks)
	require.Equal(t, tasks, s.Tasks)
	for _, m := range []*Measure{a, s} {
		require.Equal(t, 1, m.Records["FILE_TABLE"], m.Name)
		require.Equal(t, 1, m.Records["FS"], m.Name)
		require.Equal(t, files, m.Records["FILE"], m.Name)
		require.Equal(t, files, m.Records["FD"], m.Name)
	}
	require.Less(t, s.Bytes, 8*a.Bytes, "100 tasks sharing a table must cost less than 8 one-task images")
	require.Equal(t, a.Bytes+int64(tasks-1)*s.ownBytes(), s.Bytes, "a further task may cost only its own records")
	require.Equal(t, []string{"TASK", "TASK_OBJS", "TASK_MM", "REGS"}, types(s.Own))
	require.Equal(t, s.OwnRefs*(tasks-1), s.Ref, "every task after the first refers to the table, fs state and address space by objref")
	require.Equal(t, 3, s.OwnRefs)
}

// TestForkSharesFiles: forked tables are saved each, but the files they
// share are saved once.
func TestForkSharesFiles(t *testing.T) {
	ms, err := measureAll()
	require.NoError(t, err)
	f := ms.Forked
	require.Equal(t, tasks, f.Records["FILE_TABLE"])
	require.Equal(t, tasks*files, f.Records["FD"])
	require.Equal(t, files, f.Records["FILE"])
	require.Greater(t, f.Bytes, ms.Shared.Bytes)
}

// TestOutput: the narration prints the measured numbers and the records.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	ms, err := measureAll()
	require.NoError(t, err)
	require.Contains(t, out.String(), "FileTable=1(ref)")
	require.Contains(t, out.String(), "MM=103(ref)")
	require.Contains(t, out.String(), ms.Shared.ownText())
	require.Contains(t, out.String(), strconv.FormatInt(ms.Shared.Bytes, 10))
	require.Contains(t, out.String(), strconv.FormatInt(ms.Forked.Bytes, 10))
}

func types(ts []inspect.TypeSize) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Type)
	}
	return out
}
