package imported

import "fmt"

// FileError is a problem with one of the files a model imports: Param is the parameter that
// names it (path, items, users, item_ids, user_ids), File the file at fault, and Msg what is
// wrong with it (naming the column, header field or line). Err, when set, is the underlying
// error (an os or Parquet error).
type FileError struct {
	Param string
	File  string
	Msg   string
	Err   error
}

func (e *FileError) Error() string {
	s := fmt.Sprintf("imported model: %s %s: %s", e.Param, e.File, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }

func fileErr(param, file string, err error, format string, args ...any) *FileError {
	return &FileError{Param: param, File: file, Msg: fmt.Sprintf(format, args...), Err: err}
}
