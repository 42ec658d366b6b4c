package dataset

import (
	"fmt"
	"os"
	"path/filepath"
)

// Formats the loader recognises, in detection order.
const (
	FormatML100K   = "ml-100k"
	FormatML1M     = "ml-1m"
	FormatMLLatest = "ml-latest"
	FormatGeneric  = "generic"
)

// formatFiles names, per format in detection order, the file whose presence identifies it.
var formatFiles = []struct{ format, file string }{
	{FormatML100K, "u.data"},
	{FormatML1M, "ratings.dat"},
	{FormatMLLatest, "ratings.csv"},
	{FormatGeneric, "events.csv"},
}

// Detect names the format of the data set in dir.
func Detect(dir string) (string, error) {
	for _, f := range formatFiles {
		if st, err := os.Stat(filepath.Join(dir, f.file)); err == nil && !st.IsDir() {
			return f.format, nil
		}
	}
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data set %s: %w", dir, err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("data set %s: not a directory", dir)
	}
	return "", fmt.Errorf("data set %s: no known files (want u.data, ratings.dat, ratings.csv or events.csv)", dir)
}
