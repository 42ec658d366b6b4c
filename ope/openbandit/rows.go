package openbandit

import (
	"encoding/csv"
	"io"
	"os"
)

// eachRow opens a CSV file of the data set, checks that its header has the want columns and
// calls fn on every later row with the column index and the row's 1-based line. ReadLog and
// ReadItemCount share it so that both report open, header and CSV errors the same way; fn's
// error stops the read and is returned as is.
func eachRow(path string, want []string, fn func(rec []string, col map[string]int, line int) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return csvError(path, cr, err, "header")
	}
	col, err := columns(path, header, want)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(path, cr, err, "")
		}
		line, _ := cr.FieldPos(0)
		if err := fn(rec, col, line); err != nil {
			return err
		}
	}
}
