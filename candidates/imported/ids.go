package imported

import (
	"bufio"
	"errors"
	"os"
	"strings"
)

// maxIDLen bounds one line of an IDs file.
const maxIDLen = 1 << 16

// readIDs reads a text file of external IDs, one per line (a final newline and "\r\n" line ends
// are fine). An empty line or an ID given twice is an error naming the line: either would make
// the rows' identities ambiguous. param names the file's parameter in errors.
func readIDs(param, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(param, path, err, "cannot open the IDs file")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxIDLen)
	var ids []string
	first := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			id = strings.TrimPrefix(id, "\ufeff") // a byte-order mark some editors write
		}
		if id == "" {
			return nil, fileErr(param, path, nil, "line %d: empty ID", line)
		}
		if l, dup := first[id]; dup {
			return nil, fileErr(param, path, nil, "line %d: ID %q repeats line %d", line, id, l)
		}
		first[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fileErr(param, path, err, "line %d is longer than %d bytes (not an IDs file?)", len(ids)+1, maxIDLen)
		}
		return nil, fileErr(param, path, err, "read")
	}
	if len(ids) == 0 {
		return nil, fileErr(param, path, nil, "no IDs")
	}
	return ids, nil
}
