// Package inspect is the one walker of checkpoint images: it reads an image
// record by record and says what it holds, from the record types' specs
// (image.Spec) alone, so that a new record type, defined once with
// image.Define beside its Go struct, is shown, diffed, encoded, counted
// and drawn with no change here.
//
// Inspect reads an image with the framing checks of package image only
// (known record types, lengths within bounds, zero padding), not restart's
// semantic checks, so that it can show damaged and hand-made images. Its
// Report holds:
//
//   - every record, each field decoded generically from its spec, whatever
//     its value, with the symbol its spec's meaning gives it (open flags,
//     mode bits, file types, object types, task states), the tail split
//     into the parts its spec names (paths, pipe bytes, messages), and, for
//     every field that names an objref, whether that reference is the
//     object's first encounter or a later one, and the object it names;
//   - the objects: each OBJREF record with the records of its state (by the
//     specs' Object), nested where they were met first (a pipe in its first
//     file, a file in its table);
//   - the tasks of the tree, each with its own records (TASK_OBJS, REGS)
//     and the objects it met first;
//   - a summary: what the specs say to count (image.Spec.Count), the size
//     by record type, and the tail's checksum.
//
// Show prints the text form (every record, what it belongs to, its
// fields), ShowJSON the JSON form; WritePS and WriteFds the task tree and
// each task's descriptors, as crit's "x ps" and "x fds" do. Diff compares
// two reports object by object, as the equivalence checker compares two
// worlds (WriteDiff prints it), and DiffShow compares two Show texts
// record by record, for an image the running code can no longer read.
// Package graph draws a report, and package runner summarises one.
//
// The JSON keeps every raw value exactly (integers as JSON numbers of any
// width, text as strings, anything else as byte arrays or hex), so that
// Encode rebuilds the identical image from it: edit the JSON by hand, run
// Encode (with EncodeOptions.FixCRC to recompute the checksum), and the
// result is an image with exactly that change. The annotations (offsets,
// lengths, owners, symbols, marks, the summary) are for readers; Encode
// ignores them.
package inspect
