package ckpt_test

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

var sweepFull = flag.Bool("sweep.full", false, "sweep every bit and prefix of the sweep's golden images, not a sample (make fuzz)")

// sweepImages are the golden images the sweep damages: between them a pipe
// with bytes in flight, a FIFO, unlinked files, zombies, and regular files
// with every kind of flag.
var sweepImages = []string{
	"00_hello.ckpt",
	"05_file_modes_and_flags.ckpt",
	"09_fifo.ckpt",
	"10_unlinked_open_files.ckpt",
	"11_zombies_and_wait.2.ckpt",
}

// sweepStride is the sample go test ./... takes: every 251st bit and
// prefix, a few hundred restarts (well under a second); -sweep.full takes
// every one, about 230,000 restarts (a minute or two on two cores).
const sweepStride = 251

// TestSweepGoldenImages restarts each sweep image with every single bit
// flipped, and every prefix of it, each on the image's own disk, with
// restartChecked's assertions (no panic, a refusal changes nothing, an
// acceptance restores the world the image describes, allocation bounded by
// the input). A flipped bit with the checksum left as it is must be
// refused; with the checksum recomputed restart may accept it, and then
// must restore exactly what the altered image says. Every proper prefix
// must be refused.
func TestSweepGoldenImages(t *testing.T) {
	stride := sweepStride
	if *sweepFull {
		stride = 1
	}
	byName := map[string]goldenDisk{}
	for _, d := range disks(t) {
		byName[d.name] = d
	}
	var flips, accepted, prefixes int
	for _, name := range sweepImages {
		d, ok := byName[name]
		require.True(t, ok, "no golden image %s", name)
		// Offset the sample in each image, so that images of similar
		// layout do not all sample the same fields.
		for bit := len(name) % stride; bit < 8*len(d.img); bit += stride {
			bad := append([]byte(nil), d.img...)
			bad[bit/8] ^= 1 << (bit % 8)
			flips++
			if restartChecked(t, d.k, bad) {
				t.Fatalf("%s: bit %d flipped, checksum unchanged: restart accepted it", name, bit)
			}
			if fixed := withCRC(bad); fixed != nil && restartChecked(t, d.k, fixed) {
				accepted++
			}
		}
		for n := len(name) % stride; n < len(d.img); n += stride {
			prefixes++
			if restartChecked(t, d.k, d.img[:n]) {
				t.Fatalf("%s: restart accepted the prefix of %d bytes", name, n)
			}
		}
	}
	t.Logf("%d images: %d bit flips (%d accepted with the checksum recomputed, each restored as it says), %d prefixes refused",
		len(sweepImages), flips, accepted, prefixes)
}
