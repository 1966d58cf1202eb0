// Package inspect shows what a checkpoint image holds, record by record,
// as text for people and as JSON for tools, and turns that JSON back into
// the image.
//
// Inspect reads an image with the framing checks of package image only
// (known record types, lengths within bounds, zero padding), not restart's
// semantic checks, so that it can show damaged and hand-made images: it
// decodes every field generically from image.Spec.Fields(), whatever its
// value, and adds what helps a reader on top of the raw numbers: symbolic
// renderings (open flags, mode bits, file types, object types, task states),
// the tail split into its parts (paths, pipe bytes, a register summary), and
// for every field that names an objref whether that reference is the
// object's first encounter or a later reference. A summary counts the
// objects, sizes the image by record type and checks the tail's checksum.
//
// Show prints the text form, ShowJSON the JSON form; both are made from the
// one Report that Inspect returns. Diff compares two reports record by
// record (WriteDiff prints it), and DiffShow does the same from two Show
// texts, for an image the running code can no longer read. The JSON keeps every raw value exactly
// (integers as JSON numbers of any width, text as strings, anything else as
// byte arrays or hex), so that Encode rebuilds the identical image from it:
// edit the JSON by hand, run Encode (with EncodeOptions.FixCRC to recompute
// the checksum), and the result is an image with exactly that change. The
// annotations (offsets, lengths, symbols, marks, the summary) are for
// readers; Encode ignores them.
package inspect
