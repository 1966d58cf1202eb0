package runner

import (
	"fmt"
	"slices"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// Migrated is a script's world at a checkpoint, and the migration of the
// container checkpointed there.
type Migrated struct {
	// Line is the statement the checkpoint follows or is; What says what
	// was checkpointed ("checkpoint 1 => x.img", or "LINE, then checkpoint
	// PID" after another statement).
	Line *scenario.Line
	What string
	// Pid is the container's root.
	Pid int
	// Before is the script's world, thawed after the checkpoint.
	Before *kernel.Kernel
	// Migration holds the image and the restored copy.
	*ckpt.Migration
}

// MigrateAt runs a script to a checkpoint and migrates the container there
// into a fresh kernel on a copy of the disk (ckpt.Engine.Migrate). The
// checkpoint is the checkpoint line on line, with its pid and flags, the
// lines before it run; for another statement's line, the lines through it
// run and the world's one tree is checkpointed; line 0 is the script's
// first checkpoint line. A refused checkpoint or restart is an error,
// naming the line; so is a world of several trees after a line that names
// no pid.
func MigrateAt(s *scenario.Script, line int) (*Migrated, error) {
	if line == 0 {
		i := slices.IndexFunc(s.Lines, func(l *scenario.Line) bool { return l.Cmd == "checkpoint" })
		if i < 0 {
			return nil, fmt.Errorf("%s has no checkpoint line: say after which line to checkpoint", s.Name)
		}
		line = s.Lines[i].Num
	}
	i := slices.IndexFunc(s.Lines, func(l *scenario.Line) bool { return l.Num == line })
	if i < 0 {
		return nil, fmt.Errorf("%s: line %d is not a statement of the script", s.Name, line)
	}
	at := s.Lines[i]
	before := s.Lines[:i]
	if at.Cmd != "checkpoint" {
		before = s.Lines[:i+1]
	}
	k := kernel.New(kernel.Config{})
	if err := execLines(k, s.Name, systemCalls(before), nil); err != nil {
		return nil, err
	}
	m := &Migrated{Line: at, Before: k, What: at.Text}
	flags := 0
	if at.Cmd == "checkpoint" {
		var err error
		if m.Pid, flags, err = checkpointArgs(at); err != nil {
			return nil, err
		}
	} else {
		top := k.View().Top
		if len(top) != 1 {
			return nil, fmt.Errorf("%s:%d: the world has %d top-level trees after this line: which to checkpoint? Give a checkpoint line's number", s.Name, at.Num, len(top))
		}
		m.Pid = top[0]
		m.What = fmt.Sprintf("%s, then checkpoint %d", at.Text, m.Pid)
	}
	var err error
	m.Migration, err = (&ckpt.Engine{Kernel: k, Clock: FixedClock(DefaultTime)}).Migrate(m.Pid, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", s.Name, at.Num, m.What, err)
	}
	return m, nil
}

// systemCalls returns the lines that are not checkpoint lines: a
// checkpoint changes nothing in the world.
func systemCalls(lines []*scenario.Line) []*scenario.Line {
	var out []*scenario.Line
	for _, l := range lines {
		if l.Cmd != "checkpoint" {
			out = append(out, l)
		}
	}
	return out
}
