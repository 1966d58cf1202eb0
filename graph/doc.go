// Package graph draws the object graph of a world, or of a checkpoint image,
// as Graphviz DOT: tasks, file tables, fs states, open files, pipe inodes
// and unlinked files, each shared object drawn once with every reference to
// it an edge. It is what a checkpoint has to preserve, made visible: which
// tasks share a file table, which descriptors share a file (and its
// position), which files share a pipe and its bytes.
//
// A graph comes from a kernel.View (FromView, or FromScript and FromScriptAt
// to run a scenario script first) or from an image (FromImage). Both first
// build the same model, then draw it the one way, so that a world and its
// image give graphs of the same shape: the same nodes in the same order, the
// same edges, with only the labels' objrefs and the node names differing.
// An image's objects are labelled with their objrefs ("file #3"), the
// image's own names for them; a view's are not, because kernel ids mean
// nothing to a reader, though node names use them to stay unique.
//
// Node order is the checkpoint's order of first encounter: the tasks in
// preorder, then for each task its file table with its files (each file's
// ghost and pipe with it), then its fs state. So the output is deterministic,
// and it matches the image's objref order.
//
// The pictures are for teaching. WriteDOT draws the task tree top-down and
// the objects below it in rows by kind, marks shared objects, puts a
// pipe's bytes in its node and adds a legend. Group folds alike tasks into
// one node, so that large worlds stay readable. Frames draws a script line
// by line, each object in the same place in every frame; Restored draws a
// world beside its restored copy with the pairing package equiv found.
// Render runs Graphviz's dot program for SVG or PNG.
package graph
