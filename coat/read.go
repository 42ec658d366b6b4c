package coat

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
)

// Rating is one observed rating; Weight is its training weight (1 unless set by Weight).
type Rating struct {
	User, Item int
	Value      float64
	Propensity float64 // the learned propensity of the (user, item) pair; 0 when unknown
	Weight     float64
}

// Data is Coat loaded: the MNAR train ratings (with their propensities) and the MAR test ratings.
type Data struct {
	Users, Items int
	Train, Test  []Rating
}

// Load reads Coat's three matrices from dir (file names in package dataset, which detects the
// format). The shape is train.ascii's (290 × 300 for Coat itself); the other two must match it.
// Every train rating gets the propensity of its cell, which must be in (0, 1].
func Load(dir string) (*Data, error) {
	trainPath := filepath.Join(dir, dataset.CoatTrainFile)
	train, err := ReadMatrix(trainPath, 0, 0)
	if err != nil {
		return nil, err
	}
	users, items := len(train), len(train[0])
	test, err := ReadMatrix(filepath.Join(dir, dataset.CoatTestFile), users, items)
	if err != nil {
		return nil, err
	}
	propPath := filepath.Join(dir, dataset.CoatPropensitiesFile)
	prop, err := ReadMatrix(propPath, users, items)
	if err != nil {
		return nil, err
	}
	d := &Data{Users: users, Items: items}
	if d.Train, err = ratings(trainPath, train, prop, propPath); err != nil {
		return nil, err
	}
	if d.Test, err = ratings(filepath.Join(dir, dataset.CoatTestFile), test, nil, ""); err != nil {
		return nil, err
	}
	if len(d.Train) == 0 || len(d.Test) == 0 {
		return nil, fmt.Errorf("coat %s: %d train and %d test ratings; both must be non-empty", dir, len(d.Train), len(d.Test))
	}
	return d, nil
}

// ratings turns a dense rating matrix (0 = missing) into observed ratings, checking each is an
// integer 1–5 and, when prop is given, that its propensity is in (0, 1].
func ratings(path string, m, prop [][]float64, propPath string) ([]Rating, error) {
	var out []Rating
	for u, row := range m {
		for i, v := range row {
			if v == 0 {
				continue
			}
			if v != math.Trunc(v) || v < 1 || v > 5 {
				return nil, fmt.Errorf("%s:%d: column %d: rating %g is not an integer 1–5 (0 = missing)", path, u+1, i+1, v)
			}
			r := Rating{User: u, Item: i, Value: v, Weight: 1}
			if prop != nil {
				p := prop[u][i]
				if !(p > 0 && p <= 1) {
					return nil, fmt.Errorf("%s:%d: column %d: propensity %g of a rated cell is not in (0, 1]", propPath, u+1, i+1, p)
				}
				r.Propensity = p
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ReadMatrix reads a dense rows × cols matrix of whitespace-separated numbers, one row a line
// (LF or CRLF); rows and cols 0 take the shape from the file (the first row's length, every
// row's count). Errors name the file, line and column.
func ReadMatrix(path string, rows, cols int) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var m [][]float64
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text()) // drops the CR of CRLF
		if text == "" {
			continue
		}
		if rows > 0 && len(m) == rows {
			return nil, fmt.Errorf("%s:%d: more than %d rows", path, line, rows)
		}
		fields := strings.Fields(text)
		if cols == 0 {
			cols = len(fields)
		}
		if len(fields) != cols {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d", path, line, len(fields), cols)
		}
		row := make([]float64, cols)
		for j, s := range fields {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: column %d: %q is not a finite number", path, line, j+1, s)
			}
			row[j] = v
		}
		m = append(m, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s:%d: 0 rows", path, line)
	}
	if rows > 0 && len(m) != rows {
		return nil, fmt.Errorf("%s:%d: %d rows, want %d", path, line, len(m), rows)
	}
	return m, nil
}
