package ranker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// WriteLightGBM writes s in LightGBM's ranking format: to data one TSV row per candidate (the
// label, then the dense features in FeatureNames order, NaN as "nan", no header), to query the
// number of candidates of each request, one per line. Requests without candidates are skipped.
func (s *Set) WriteLightGBM(data, query io.Writer) error {
	dw, qw := bufio.NewWriterSize(data, 1<<16), bufio.NewWriter(query)
	nf := len(s.FeatureNames)
	var buf []byte
	for k := range s.Requests {
		r := &s.Requests[k]
		if len(r.Items) == 0 {
			continue
		}
		for i := range r.Items {
			buf = strconv.AppendFloat(buf[:0], float64(r.Labels[i]), 'g', -1, 32)
			for _, v := range r.Row(i, nf) {
				buf = append(buf, '\t')
				if isNaN32(v) {
					buf = append(buf, "nan"...)
				} else {
					buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
				}
			}
			buf = append(buf, '\n')
			if _, err := dw.Write(buf); err != nil {
				return err
			}
		}
		buf = strconv.AppendInt(buf[:0], int64(len(r.Items)), 10)
		buf = append(buf, '\n')
		if _, err := qw.Write(buf); err != nil {
			return err
		}
	}
	return errors.Join(dw.Flush(), qw.Flush())
}

// WriteLightGBMFiles writes the data to path and the group sizes to path+".query", the names
// LightGBM (and `cascade gbdt train`) look for. The feature names are not part of the format;
// keep s.FeatureNames beside the files.
func (s *Set) WriteLightGBMFiles(path string) (err error) {
	create := func(p string) (*os.File, error) {
		f, err := os.Create(p)
		if err != nil {
			return nil, fmt.Errorf("ranker: %w", err)
		}
		return f, nil
	}
	df, err := create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, df.Close()) }()
	qf, err := create(path + ".query")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, qf.Close()) }()
	if err := s.WriteLightGBM(df, qf); err != nil {
		return fmt.Errorf("ranker: writing %s: %w", path, err)
	}
	return nil
}
