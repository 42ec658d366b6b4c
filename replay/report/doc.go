// Package report owns the replay reports a person reads: a Markdown page with the side-by-side
// table and two PNG plots, ndcg@K per configuration (ndcg.go) and recall@N per stage (recall.go).
// Both plots name the data set and the protocol in their title and keep their legend beside the
// data, never over it (legend.go). A stage whose lists never reach N has no recall@N of its own
// (replay.Report.StageMaxItems says how long its lists were): the recall plot prints "n/a" there
// rather than repeat its recall at its own length.
//
// The package is apart from package replay so that what serves and trains does not link the
// plotting library.
package report
