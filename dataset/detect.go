package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Formats the loader recognises, in detection order.
const (
	FormatCoat     = "coat"
	FormatML100K   = "ml-100k"
	FormatML1M     = "ml-1m"
	FormatMLLatest = "ml-latest"
	FormatGeneric  = "generic"
)

// Coat's files (Schnabel et al. 2016): dense user × item matrices, not an event log. Package coat
// reads them; a data set of this format has no events, so Load refuses it with ErrRatingMatrices.
const (
	CoatTrainFile        = "train.ascii"
	CoatTestFile         = "test.ascii"
	CoatPropensitiesFile = "propensities.ascii"
)

// ErrRatingMatrices is Load's refusal of a Coat directory: it holds rating matrices without
// events, which ranking pipelines cannot replay.
var ErrRatingMatrices = errors.New("rating matrices without events")

// formatFiles names, per format in detection order, the files whose presence identifies it.
var formatFiles = []struct {
	format string
	files  []string
}{
	{FormatCoat, []string{CoatTrainFile, CoatTestFile, CoatPropensitiesFile}},
	{FormatML100K, []string{"u.data"}},
	{FormatML1M, []string{"ratings.dat"}},
	{FormatMLLatest, []string{"ratings.csv"}},
	{FormatGeneric, []string{"events.csv"}},
}

// Detect names the format of the data set in dir.
func Detect(dir string) (string, error) {
	for _, f := range formatFiles {
		if allFiles(dir, f.files) {
			return f.format, nil
		}
	}
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data set %s: %w", dir, err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("data set %s: not a directory", dir)
	}
	var want []string
	for _, f := range formatFiles {
		want = append(want, strings.Join(f.files, " + "))
	}
	return "", fmt.Errorf("data set %s: no known files (want %s)", dir, strings.Join(want, ", "))
}

func allFiles(dir string, files []string) bool {
	for _, name := range files {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}
