// Package graph draws the object graph of a world, or of a checkpoint image,
// as Graphviz DOT: tasks and the shared objects they hold (file tables, fs
// states, open files, pipes, unlinked files, socket pairs, address spaces
// and segments of shared memory, and whatever type comes next), each
// object drawn once with every reference to it an edge. It is what a
// checkpoint has to preserve, made visible: which tasks share a file table
// or an address space, which descriptors share a file (and its position),
// which files share a pipe and its bytes, which mappings share a segment
// or a file. An address space's VMAs are records of it, not objects: a
// mapping of a segment or a file is an edge, labelled with its range.
//
// A graph comes from an image (FromImage) or from a kernel.View (FromView,
// or FromScript and FromScriptAt to run a scenario script first). An image
// is read through inspect's walker, from the record types' specs alone:
// each object is a node of its object type's kind, labelled by its spec's
// Label or by its first record's fields; each objref field is an edge. So an
// object type graph was never told about is drawn like the others. A view
// is typed, so view.go knows each kind of object it holds, and draws it as
// the image of it would be drawn: both build the same model, then draw it
// the one way, so that a world and its image give graphs of the same
// shape: the same nodes in the same order, the same edges, with only the
// labels' objrefs and the node names differing (a property test holds
// them to it). An image's objects are labelled with their objrefs ("file
// #3"), the image's own names for them; a view's are not, because kernel
// ids mean nothing to a reader, though node names use them to stay unique.
//
// Node order is the checkpoint's order of first encounter: the tasks in
// preorder, then the objects in objref order (a task's file table, its
// files each with its ghost and pipe or socket pair, its fs state, its
// address space with the segments and files its VMAs map). So the
// output is deterministic, and it matches the image's objref order.
//
// The pictures are for teaching. WriteDOT draws the task tree top-down and
// the objects below it in rows by how far they are from a task, marks
// shared objects, puts a pipe's bytes, a socket pair's messages and an
// address space's VMAs and written pages in its node and adds a legend. Group folds alike tasks into
// one node, so that large worlds stay readable. Frames draws a script line
// by line, each object in the same place in every frame; Restored draws a
// world beside its restored copy with the pairing package equiv found.
// Render runs Graphviz's dot program for SVG or PNG.
package graph
