package graph

import "github.com/ckptsim/ckptsim/sim/vfs"

// model is a world's objects and their references, as FromView and
// FromImage read them; draw turns it into a Graph. Objects are shared by
// pointer, so that a shared object is one value whatever refers to it.
type model struct {
	tasks []*mTask // in preorder: a parent before its children
}

// An object's name is its node's name; its ref is what its label calls it
// ("#3" for an image's objref, "" for a view).
type obj struct {
	name, ref string
}

type mTask struct {
	pid, ppid int
	comm      string
	zombie    bool
	exitCode  int
	files     *mTable // nil for a zombie
	fs        *mFS    // nil for a zombie
}

type mTable struct {
	obj
	fds []mFd // by descriptor number
}

type mFd struct {
	fd      int
	file    *mFile
	cloexec bool
}

type mFS struct {
	obj
	root, cwd string
}

type mFile struct {
	obj
	typ   vfs.FileType
	flags int
	mode  vfs.FMode
	pos   int64
	// path is the path the file was opened through, "" for a pipe end;
	// for an unlinked file, its last path with " (deleted)".
	path  string
	pipe  *mPipe  // a pipe end's or FIFO's pipe
	ghost *mGhost // an unlinked file's inode
}

type mPipe struct {
	obj
	bytes            int
	readers, writers int
	// data is the first maxPipeData bytes waiting in the pipe, for its
	// label: a picture shows what is in flight, and no more than that
	// bounds the memory a huge pipe takes.
	data []byte
}

// maxPipeData is how many of a pipe's bytes the model keeps.
const maxPipeData = 64

// buffered takes a pipe buffer's bytes into the pipe's count and data.
func (p *mPipe) buffered(b []byte) {
	p.bytes += len(b)
	if room := maxPipeData - len(p.data); room > 0 {
		p.data = append(p.data, b[:min(room, len(b))]...)
	}
}

type mGhost struct {
	obj
	path string // its last path
	mode uint32 // st_mode
	size int64
}
