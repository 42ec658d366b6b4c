package datafetch

import (
	"strings"
	"testing"
)

func TestParseMD5(t *testing.T) {
	const sum = "0e33842e24a9c977be4e0107933c0723"
	for _, c := range []struct {
		name, text, want, err string
	}{
		{"GroupLens (BSD)", "MD5 (ml-100k.zip) = " + sum + "\n", sum, ""},
		{"CRLF", "MD5 (ml-100k.zip) = " + sum + "\r\n", sum, ""},
		{"upper case", "MD5 (ml-100k.zip) = " + strings.ToUpper(sum), sum, ""},
		{"md5sum", sum + "  ml-100k.zip\n", sum, ""},
		{"md5sum binary", sum + " *ml-100k.zip\n", sum, ""},
		{"bare", sum + "\n", sum, ""},
		{"other archive", "MD5 (ml-1m.zip) = " + sum, "", `names "ml-1m.zip"`},
		{"other archive, md5sum", sum + "  ml-1m.zip", "", `names "ml-1m.zip"`},
		{"short hash", "MD5 (ml-100k.zip) = 0e33842e", "", "32 hex digits"},
		{"empty", "", "", "32 hex digits"},
		{"html", "<html><body>Not Found</body></html>", "", "32 hex digits"},
	} {
		got, err := parseMD5(c.text, "ml-100k.zip")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v", c.name, got, err)
		}
	}
}
