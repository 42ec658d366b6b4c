package datafetch

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxUnpacked bounds what one archive may unpack to (ml-25m unpacks to about 1.1 GB).
const maxUnpacked = 8 << 30

// unzip extracts the entries of the archive at src under root/ (a directory prefix of their
// names) into dst, flattening that prefix away: root/u.data becomes dst/u.data. Entries outside
// root (such as __MACOSX/) are left out. An entry whose name is absolute or climbs out with "..",
// a link or device, or more than maxUnpacked bytes in all is an error.
func unzip(src, root, dst string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer zr.Close()
	prefix := root + "/"
	var total int64
	found := false
	for _, f := range zr.File {
		name := f.Name
		if strings.Contains(name, `\`) || path.IsAbs(name) || filepath.IsAbs(name) || hasDotDot(name) {
			return fmt.Errorf("archive entry %q: unsafe name", name)
		}
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		rel := strings.TrimPrefix(name, prefix)
		if rel == "" {
			continue
		}
		found = true
		out := filepath.Join(dst, filepath.FromSlash(rel))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("archive entry %q: %w", name, err)
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("archive entry %q: not a regular file (%s)", name, mode.Type())
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return fmt.Errorf("archive entry %q: %w", name, err)
		}
		n, err := extract(f, out, maxUnpacked-total)
		total += n
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", name, err)
		}
	}
	if !found {
		return fmt.Errorf("archive holds no %s/ directory", root)
	}
	return nil
}

// extract writes one entry to out, failing past limit bytes.
func extract(f *zip.File, out string, limit int64) (int64, error) {
	r, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = errors.New("the archive unpacks to more than the allowed size")
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func hasDotDot(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}
