// Command rssmigrate measures the peak memory of a migration (issue 16): it
// builds a world of internal/scaleworld, then checkpoints it into an
// io.Pipe from one goroutine while another restarts from the pipe into a
// second kernel, as a migration streams an image from one machine to the
// next, and reports the process's peak resident set during the migration
// against the heap of one world.
//
//	go run ./internal/rssmigrate -shape table -n 1000000
//
// The world's heap is the live heap after a collection, less that before
// the world was built. The peak is the kernel's high-water mark of the
// resident set (VmHWM), reset right before the migration starts (Linux's
// clear_refs 5), so it counts the source world, the destination's copy of
// the disk, the world restart builds and whatever else either side holds,
// as the runtime keeps it: garbage not yet collected included, which with
// GOGC's default of 100 can be as much as the live heap.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/internal/scaleworld"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

func main() {
	shape := flag.String("shape", "table", "the world's shape: "+strings.Join(scaleworld.Shapes, ", "))
	n := flag.Int("n", 1000000, "about how many objects the world holds")
	limit := flag.Float64("limit", 0, "if set, a soft memory limit for the migration (debug.SetMemoryLimit), in worlds' heaps")
	flag.Parse()
	if err := run(*shape, *n, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "rssmigrate:", err)
		os.Exit(1)
	}
}

func run(shape string, n int, limit float64) error {
	before := liveHeap()
	start := time.Now()
	k, objects, err := scaleworld.Build(shape, n)
	if err != nil {
		return err
	}
	built := time.Since(start)
	world := liveHeap() - before
	cfg := scaleworld.Config
	cfg.DiskFrom = k
	k2 := kernel.New(cfg)
	baseLive := liveHeap()
	debug.FreeOSMemory()
	if limit > 0 {
		debug.SetMemoryLimit(int64(limit * float64(world)))
	}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the peak resident set: %w", err)
	}
	base, err := status("VmRSS")
	if err != nil {
		return err
	}
	start = time.Now()
	imageBytes, err := migrate(k, k2)
	if err != nil {
		return err
	}
	took := time.Since(start)
	peak, err := status("VmHWM")
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d objects (built in %v), image %d bytes (%.1f per object)\n", shape, objects, built.Round(time.Millisecond), imageBytes, float64(imageBytes)/float64(objects))
	fmt.Printf("world heap %d MiB (%.0f bytes per object); resident before the migration %d MiB (%.2fx the world)\n",
		world>>20, float64(world)/float64(objects), base>>20, float64(base)/float64(world))
	fmt.Printf("migration %v; peak resident %d MiB: %.2fx the world (goal 2.5x); the migration added %.2fx\n",
		took.Round(time.Millisecond), peak>>20, float64(peak)/float64(world), float64(peak-base)/float64(world))
	// What is live now is the two worlds and whatever restart still
	// holds of its own (nothing, once it has returned, if all is well).
	held := liveHeap() - baseLive
	fmt.Printf("live after the migration: the restored world and what restart kept, %d MiB (%.2fx the world)\n",
		held>>20, float64(held)/float64(world))
	runtime.KeepAlive(k)
	runtime.KeepAlive(k2)
	return nil
}

// migrate checkpoints the container at pid 1 of from into a pipe that a
// restart into to reads, concurrently, and returns the image's length.
func migrate(from, to *kernel.Kernel) (int64, error) {
	pr, pw := io.Pipe()
	sent := make(chan error, 1)
	var n int64
	go func() {
		w := bufio.NewWriterSize(&counter{w: pw, n: &n}, 64<<10)
		_, err := ckpt.New(from).Checkpoint(1, w, 0)
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
		sent <- err
	}()
	_, err := ckpt.New(to).Restart(bufio.NewReaderSize(pr, 64<<10), 0)
	pr.CloseWithError(fmt.Errorf("restart ended"))
	if serr := <-sent; err == nil && serr != nil {
		err = serr
	}
	return n, err
}

type counter struct {
	w io.Writer
	n *int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// liveHeap returns the live heap after a full collection.
func liveHeap() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// status returns a size field of /proc/self/status, in bytes.
func status(field string) (int64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(raw) {
		name, value, ok := strings.Cut(string(line), ":")
		if ok && name == field {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}
