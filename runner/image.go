package runner

import (
	"errors"
	"fmt"

	"github.com/ckptsim/ckptsim/inspect"
)

// ErrBadImage is CheckImage's error for an image that is not whole and
// sound.
var ErrBadImage = errors.New("bad image")

// CheckImage says whether the image an inspect report describes is whole:
// read to its end without a fault, and closed by a tail whose checksum
// matches, or by the error record of a refused checkpoint. Inspect reports
// faults of framing (a cut or malformed image); a wrong checksum reads
// without error, and only the summary tells.
func CheckImage(rep *inspect.Report) error {
	s := rep.Summary
	switch {
	case rep.Err != nil:
		return fmt.Errorf("%w: %w", ErrBadImage, rep.Err)
	case s.Checksum == inspect.ChecksumMismatch:
		return fmt.Errorf("%w: checksum mismatch: stored %#08x, computed %#08x", ErrBadImage, s.Stored, s.Computed)
	}
	return nil
}
