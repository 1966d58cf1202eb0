package inspect

import (
	"sort"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Summary counts what an image holds and checks its checksum.
type Summary struct {
	Tasks      int `json:"tasks"`   // live
	Zombies    int `json:"zombies"` // tasks that have exited and wait to be reaped
	FileTables int `json:"file_tables"`
	FSStates   int `json:"fs_states"`
	// Files counts FILE records by file type name ("regular", "pipe", ...).
	Files     map[string]int `json:"files"`
	Pipes     int            `json:"pipes"`
	PipeBytes int64          `json:"pipe_bytes"` // in every pipe buffer
	Ghosts    int            `json:"ghosts"`
	// Sizes are the bytes and count of records of each type present, by
	// type number.
	Sizes []TypeSize `json:"sizes"`
	// Total is the image's size: every record read, padding included.
	Total int64 `json:"total"`
	// Checksum is ChecksumOK, ChecksumMismatch or ChecksumMissing.
	Checksum string `json:"checksum"`
	// Stored and Computed are the tail's checksum and the one of the bytes
	// before it, when there is a tail.
	Stored   uint32 `json:"stored,omitempty"`
	Computed uint32 `json:"computed,omitempty"`
	// Error is the message of an ERROR record: why checkpoint failed.
	Error string `json:"error,omitempty"`
}

// The states of an image's checksum.
const (
	ChecksumOK       = "matches"
	ChecksumMismatch = "mismatch"
	ChecksumMissing  = "missing" // no tail record: an error record, or a cut image
)

// TypeSize is the space records of one type take.
type TypeSize struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	Bytes int64  `json:"bytes"`
}

// summarize counts the records of a report.
func summarize(rep *Report) Summary {
	s := Summary{Files: map[string]int{}, Checksum: ChecksumMissing}
	sizes := map[image.Type]*TypeSize{}
	for _, r := range rep.Records {
		switch r.Type {
		case ckpt.RecTask:
			if r.value("State") == 1 {
				s.Zombies++
			} else {
				s.Tasks++
			}
		case task.RecFileTable:
			s.FileTables++
		case task.RecFS:
			s.FSStates++
		case vfs.RecFile:
			s.Files[vfs.FileType(r.value("FileType")).String()]++
		case vfs.RecPipe:
			s.Pipes++
		case vfs.RecPipeBuf:
			s.PipeBytes += int64(len(r.Tail))
		case vfs.RecGhost:
			s.Ghosts++
		case image.TypeError:
			s.Error = string(r.Tail)
		case image.TypeTail:
			s.Stored, s.Computed = uint32(r.value("CRC")), r.CRC
			s.Checksum = ChecksumOK
			if s.Stored != s.Computed {
				s.Checksum = ChecksumMismatch
			}
		}
		ts := sizes[r.Type]
		if ts == nil {
			ts = &TypeSize{Type: r.Type.String()}
			sizes[r.Type] = ts
		}
		ts.Count++
		ts.Bytes += r.Size()
		s.Total += r.Size()
	}
	types := make([]image.Type, 0, len(sizes))
	for t := range sizes {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, t := range types {
		s.Sizes = append(s.Sizes, *sizes[t])
	}
	return s
}
