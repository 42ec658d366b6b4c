package datafetch

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// ChecksumError is an archive whose MD5 differs from the published one. Nothing was unpacked; the
// download is deleted.
type ChecksumError struct {
	URL       string // the archive
	Want, Got string // hex MD5 sums: published, computed
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: MD5 %s does not match the published %s (damaged or altered download; nothing was kept)", e.URL, e.Got, e.Want)
}

// bsdSum is the form GroupLens publishes: "MD5 (ml-100k.zip) = 0e33842e24a9c977be4e0107933c0723".
var bsdSum = regexp.MustCompile(`^MD5 \((.+)\) = ([0-9A-Fa-f]{32})$`)

// parseMD5 reads a published MD5 file for archive: the BSD form GroupLens writes, the GNU
// md5sum form ("HASH  NAME" or "HASH *NAME") or a bare hash. A file naming another archive is an
// error.
func parseMD5(text, archive string) (string, error) {
	line := strings.TrimSpace(text)
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	if m := bsdSum.FindStringSubmatch(line); m != nil {
		if m[1] != archive {
			return "", fmt.Errorf("checksum file names %q, not %q", m[1], archive)
		}
		return strings.ToLower(m[2]), nil
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields) > 2 || !isMD5(fields[0]) {
		return "", fmt.Errorf("checksum file: want \"MD5 (%s) = <32 hex digits>\", got %q", archive, truncate(line, 80))
	}
	if len(fields) == 2 && strings.TrimPrefix(fields[1], "*") != archive {
		return "", fmt.Errorf("checksum file names %q, not %q", fields[1], archive)
	}
	return strings.ToLower(fields[0]), nil
}

func isMD5(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
