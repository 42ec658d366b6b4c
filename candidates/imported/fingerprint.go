package imported

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// maxFingerprintFiles bounds the walk of a model directory (Spark writes a handful of part files
// per factor table; a directory of thousands is not a model).
const maxFingerprintFiles = 10_000

// fingerprint describes every file p names by path, size and modification time, in a stable
// order. A file that cannot be read is described by its error, so that the description (and the
// cache key built from it) changes when the file appears.
func fingerprint(p Params) []string {
	var out []string
	add := func(path string) {
		st, err := os.Stat(path)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: unreadable", path))
			return
		}
		out = append(out, fmt.Sprintf("%s %d %d", path, st.Size(), st.ModTime().UnixNano()))
	}
	if p.Path != "" {
		var files []string
		err := filepath.WalkDir(p.Path, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
				if len(files) > maxFingerprintFiles {
					return fmt.Errorf("more than %d files", maxFingerprintFiles)
				}
			}
			return nil
		})
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", p.Path, err))
		}
		sort.Strings(files)
		for _, f := range files {
			add(f)
		}
	}
	for _, f := range []string{p.Items, p.Users, p.ItemIDs, p.UserIDs} {
		if f != "" {
			add(f)
		}
	}
	return out
}
