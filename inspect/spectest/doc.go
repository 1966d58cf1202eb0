// Package spectest is the proof that a record type is one definition, read
// everywhere: its test defines, in a _test.go file, a record type and an
// object type the simulator has never had (image.Define, object.Register),
// puts them in an image, and shows that show, the JSON round trip, diff,
// the summary, ps and graph all handle them, with no change to their code.
// It has no code of its own: the definitions are the test's, so that they
// reach no other test or binary.
package spectest
