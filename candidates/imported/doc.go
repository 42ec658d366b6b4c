// Package imported owns candidate sources trained elsewhere — by Spark MLlib's ALS on a cluster,
// or by PyTorch on GPUs — and served by Cascade like its own models: the way out for logs that
// outgrow one machine. A pipeline file names one as `type: imported` (docs/imports.md).
//
// Two formats are read:
//
//   - FormatSparkALS: the directory ALSModel.save(path) writes, its userFactors/ and itemFactors/
//     Parquet part files (columns id int, features array<float>) and metadata/ (JSON with the
//     rank). Spark ALS needs integer IDs; Spark's integer n stands for the external ID "n"
//     (decimal), or for line n of an item_ids/user_ids file (the StringIndexer labels that made
//     the integers).
//   - FormatNPY: NumPy .npy matrices of item (and optionally user) vectors, float32 or float64,
//     with a text file of external IDs, one per line, naming the rows.
//
// "Training" (Train) reads and validates the files and aligns their rows to a training window's
// catalog: dense item IDs [0, NumItems), dense user IDs [0, NumUsers). Rows of items or users the
// window does not know are skipped and counted (Report); catalog items without a vector are never
// recommended. A missing, malformed or inconsistent file is a *FileError that names the
// parameter, the file and the field (a column, a header field, a line), never a panic.
//
// The Model serves like the native factor models: a candidates.Source (the top n by inner
// product with the user's vector, an exact scan through candidates.TopK) and a candidates.Scorer
// (that inner product, as a ranking feature). A user's vector is the imported one when the files
// have it and fold_in is off; otherwise it is folded in from the request's history against the
// fixed item vectors: by Spark's own ALS user step (implicit or explicit least squares with the
// item Gramian, the default for spark-als) or by the mean of the history's item vectors (the
// default for npy) — fold.go says why.
//
// Models are saved in artifact containers of kind "imported" holding the aligned vectors, so a
// bundle serves without the original files.
package imported
