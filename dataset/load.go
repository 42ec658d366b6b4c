package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// Formats the loader recognises, in detection order.
const (
	FormatML100K   = "ml-100k"
	FormatML1M     = "ml-1m"
	FormatMLLatest = "ml-latest"
	FormatGeneric  = "generic"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Format forces a loader; "" or "auto" detects it from the files present.
	Format string
	// SkipMalformed skips rows that do not parse instead of failing; the count is reported in
	// Dataset.Skipped and logged. Off by default: bad data is an error naming file, line and field.
	SkipMalformed bool
	// Logger receives the skip report; slog.Default() when nil.
	Logger *slog.Logger
}

// ParseError is a malformed row: File, Line (1-based) and Field name where it failed.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Detect names the format of the data set in dir.
func Detect(dir string) (string, error) {
	has := func(name string) bool {
		st, err := os.Stat(filepath.Join(dir, name))
		return err == nil && !st.IsDir()
	}
	switch {
	case has("u.data"):
		return FormatML100K, nil
	case has("ratings.dat"):
		return FormatML1M, nil
	case has("ratings.csv"):
		return FormatMLLatest, nil
	case has("events.csv"):
		return FormatGeneric, nil
	}
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data set %s: %w", dir, err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("data set %s: not a directory", dir)
	}
	return "", fmt.Errorf("data set %s: no known files (want u.data, ratings.dat, ratings.csv or events.csv)", dir)
}

// Load reads the data set in dir. Events come out in time order (stable: ties keep file order)
// with dense IDs assigned in order of first appearance.
func Load(dir string, opt LoadOptions) (*Dataset, error) {
	format := opt.Format
	if format == "" || format == "auto" {
		f, err := Detect(dir)
		if err != nil {
			return nil, err
		}
		format = f
	}
	b := newBuilder(dir, opt)
	var err error
	switch format {
	case FormatML100K:
		err = b.loadML100K()
	case FormatML1M:
		err = b.loadML1M()
	case FormatMLLatest:
		err = b.loadMLLatest()
	case FormatGeneric:
		err = b.loadGeneric()
	default:
		return nil, fmt.Errorf("data set %s: unknown format %q (want auto, %s, %s, %s or %s)", dir, format, FormatML100K, FormatML1M, FormatMLLatest, FormatGeneric)
	}
	if err != nil {
		return nil, err
	}
	ds := b.finish(format)
	if b.skipped > 0 {
		logger := opt.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("skipped malformed rows", "dataset", dir, "rows", b.skipped)
	}
	return ds, nil
}

// rawEvent uses the builder's file-order IDs until finish remaps them.
type rawEvent struct {
	user, item int32
	time       int64
	value      float32
}

type builder struct {
	dir     string
	opt     LoadOptions
	users   *Dict // file-order interning
	items   *Dict
	events  []rawEvent
	titles  map[int32]string
	iattrs  *attrBuilder
	uattrs  *attrBuilder
	skipped int
	hasVal  bool
}

func newBuilder(dir string, opt LoadOptions) *builder {
	return &builder{dir: dir, opt: opt, users: NewDict(), items: NewDict(), titles: map[int32]string{}}
}

// bad records a malformed row: an error, or a skip when the user asked for skipping.
func (b *builder) bad(file string, line int, field string, err error) error {
	if b.opt.SkipMalformed {
		b.skipped++
		return nil
	}
	return &ParseError{File: file, Line: line, Field: field, Err: err}
}

// addEvent parses one event's fields; it returns a *ParseError (or nil when skipped).
func (b *builder) addEvent(file string, line int, user, item, ts, value string, parseTime func(string) (int64, error)) error {
	if user == "" {
		return b.bad(file, line, "user", errors.New("empty"))
	}
	if item == "" {
		return b.bad(file, line, "item", errors.New("empty"))
	}
	t, err := parseTime(ts)
	if err != nil {
		return b.bad(file, line, "timestamp", err)
	}
	v := float32(math.NaN())
	if value != "" {
		f, err := strconv.ParseFloat(value, 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			if err == nil {
				err = fmt.Errorf("%q is not a finite number", value)
			}
			return b.bad(file, line, "value", err)
		}
		v = float32(f)
		b.hasVal = true
	}
	b.events = append(b.events, rawEvent{b.users.Add(user), b.items.Add(item), t, v})
	return nil
}

func unixSeconds(s string) (int64, error) {
	t, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer Unix time", s)
	}
	return t, nil
}

// flexibleTime accepts integer Unix seconds, fractional seconds, or RFC 3339.
func flexibleTime(s string) (int64, error) {
	if t, err := strconv.ParseInt(s, 10, 64); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int64(math.Floor(f)), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("%q is neither Unix seconds nor RFC 3339", s)
}

func (b *builder) path(name string) string { return filepath.Join(b.dir, name) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readLatin1 reads a file and converts it from ISO-8859-1 (the MovieLens 100K/1M encoding).
func readLatin1(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return charmap.ISO8859_1.NewDecoder().Bytes(raw)
}

// lines calls fn for each non-empty line (1-based numbers), without the line terminator.
func lines(data []byte, fn func(n int, line string) error) error {
	n := 0
	for len(data) > 0 {
		n++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) == 0 {
			continue
		}
		if err := fn(n, string(l)); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) loadML100K() error {
	file := b.path("u.data")
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("load ml-100k: %w", err)
	}
	err = lines(data, func(n int, l string) error {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			return b.bad(file, n, "", fmt.Errorf("want 4 tab-separated fields (user item rating timestamp), got %d", len(f)))
		}
		return b.addEvent(file, n, f[0], f[1], f[3], f[2], unixSeconds)
	})
	if err != nil {
		return err
	}
	if p := b.path("u.item"); exists(p) {
		if err := b.loadML100KItems(p); err != nil {
			return err
		}
	}
	if p := b.path("u.user"); exists(p) {
		return b.loadSepUsers(p, "|", []string{"age", "gender", "occupation", "zip"}, map[string]bool{"age": true})
	}
	return nil
}

// ml100kGenres are the 19 genre flag columns of u.item, in order (from u.genre).
var ml100kGenres = []string{"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
	"Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
	"Thriller", "War", "Western"}

func (b *builder) loadML100KItems(file string) error {
	data, err := readLatin1(file)
	if err != nil {
		return fmt.Errorf("load ml-100k items: %w", err)
	}
	a := b.itemAttrs()
	genres := a.categorical("genres")
	year := a.numeric("year")
	return lines(data, func(n int, l string) error {
		f := strings.Split(l, "|")
		if len(f) != 5+len(ml100kGenres) {
			return b.bad(file, n, "", fmt.Errorf("want %d |-separated fields, got %d", 5+len(ml100kGenres), len(f)))
		}
		id := b.items.Add(f[0])
		b.titles[id] = f[1]
		for g, flag := range f[5:] {
			switch flag {
			case "1":
				a.add(genres, id, ml100kGenres[g])
			case "0":
			default:
				return b.bad(file, n, ml100kGenres[g], fmt.Errorf("genre flag %q is not 0 or 1", flag))
			}
		}
		if d := f[2]; d != "" {
			t, err := time.Parse("2-Jan-2006", d)
			if err != nil {
				return b.bad(file, n, "release_date", err)
			}
			a.set(year, id, float32(t.Year()))
		}
		return nil
	})
}

// loadSepUsers reads a separator-delimited user file whose first column is the user ID.
func (b *builder) loadSepUsers(file, sep string, cols []string, numeric map[string]bool) error {
	data, err := readLatin1(file)
	if err != nil {
		return fmt.Errorf("load users: %w", err)
	}
	a := b.userAttrs()
	idx := make([]int, len(cols))
	for i, c := range cols {
		if numeric[c] {
			idx[i] = a.numeric(c)
		} else {
			idx[i] = a.categorical(c)
		}
	}
	return lines(data, func(n int, l string) error {
		f := strings.Split(l, sep)
		if len(f) != len(cols)+1 {
			return b.bad(file, n, "", fmt.Errorf("want %d %q-separated fields, got %d", len(cols)+1, sep, len(f)))
		}
		id := b.users.Add(f[0])
		for i, c := range cols {
			v := f[i+1]
			if numeric[c] {
				x, err := strconv.ParseFloat(v, 32)
				if err != nil {
					return b.bad(file, n, c, fmt.Errorf("%q is not a number", v))
				}
				a.set(idx[i], id, float32(x))
			} else if v != "" {
				a.add(idx[i], id, v)
			}
		}
		return nil
	})
}

func (b *builder) loadML1M() error {
	file := b.path("ratings.dat")
	data, err := readLatin1(file)
	if err != nil {
		return fmt.Errorf("load ml-1m: %w", err)
	}
	err = lines(data, func(n int, l string) error {
		f := strings.Split(l, "::")
		if len(f) != 4 {
			return b.bad(file, n, "", fmt.Errorf("want 4 ::-separated fields (UserID::MovieID::Rating::Timestamp), got %d", len(f)))
		}
		return b.addEvent(file, n, f[0], f[1], f[3], f[2], unixSeconds)
	})
	if err != nil {
		return err
	}
	if p := b.path("movies.dat"); exists(p) {
		mdata, err := readLatin1(p)
		if err != nil {
			return fmt.Errorf("load ml-1m movies: %w", err)
		}
		a := b.itemAttrs()
		genres := a.categorical("genres")
		year := a.numeric("year")
		err = lines(mdata, func(n int, l string) error {
			f := strings.Split(l, "::")
			if len(f) != 3 {
				return b.bad(p, n, "", fmt.Errorf("want 3 ::-separated fields (MovieID::Title::Genres), got %d", len(f)))
			}
			b.addMovie(a, genres, year, f[0], f[1], f[2])
			return nil
		})
		if err != nil {
			return err
		}
	}
	if p := b.path("users.dat"); exists(p) {
		return b.loadSepUsers(p, "::", []string{"gender", "age", "occupation", "zip"}, map[string]bool{"age": true})
	}
	return nil
}

// addMovie records a MovieLens movie: title, "|"-separated genres, and the year in the title.
func (b *builder) addMovie(a *attrBuilder, genres, year int, id, title, gs string) {
	item := b.items.Add(id)
	b.titles[item] = title
	if gs != "" && gs != "(no genres listed)" {
		for _, g := range strings.Split(gs, "|") {
			a.add(genres, item, g)
		}
	}
	// Titles end with "(YYYY)"; a missing year stays NaN.
	t := strings.TrimSpace(title)
	if len(t) >= 6 && t[len(t)-1] == ')' && t[len(t)-6] == '(' {
		if y, err := strconv.Atoi(t[len(t)-5 : len(t)-1]); err == nil {
			a.set(year, item, float32(y))
		}
	}
}

// csvFile opens a CSV file and checks its header against the required columns; it returns the
// reader, the column index by name, and a function giving the current record's line.
func csvFile(path string, required ...string) (*csv.Reader, map[string]int, func() int, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Err: errors.New("empty file, want a header line")}
		}
		return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Err: err}
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			f.Close()
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Field: h, Err: errors.New("duplicate column")}
		}
		col[h] = i
	}
	for _, req := range required {
		if _, ok := col[req]; !ok {
			f.Close()
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Field: req, Err: fmt.Errorf("missing column (header is %q)", strings.Join(head, ","))}
		}
	}
	line := func() int { l, _ := r.FieldPos(0); return l }
	return r, col, line, f, nil
}

// eachCSV calls fn for every record after the header. A record with a wrong field count or a
// CSV syntax error is a ParseError (or skipped).
func (b *builder) eachCSV(path string, r *csv.Reader, ncol int, line func() int, fn func(n int, rec []string) error) error {
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := b.bad(path, pe.Line, "", pe.Err); e != nil {
					return e
				}
				continue
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) != ncol {
			if e := b.bad(path, line(), "", fmt.Errorf("want %d fields like the header, got %d", ncol, len(rec))); e != nil {
				return e
			}
			continue
		}
		if err := fn(line(), rec); err != nil {
			return err
		}
	}
}

func (b *builder) loadMLLatest() error {
	path := b.path("ratings.csv")
	r, col, line, c, err := csvFile(path, "userId", "movieId", "rating", "timestamp")
	if err != nil {
		return fmt.Errorf("load ml-latest: %w", err)
	}
	defer c.Close()
	u, i, v, t := col["userId"], col["movieId"], col["rating"], col["timestamp"]
	err = b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		return b.addEvent(path, n, rec[u], rec[i], rec[t], rec[v], unixSeconds)
	})
	if err != nil {
		return err
	}
	if p := b.path("movies.csv"); exists(p) {
		r, col, line, c, err := csvFile(p, "movieId", "title", "genres")
		if err != nil {
			return fmt.Errorf("load ml-latest movies: %w", err)
		}
		defer c.Close()
		a := b.itemAttrs()
		genres, year := a.categorical("genres"), a.numeric("year")
		err = b.eachCSV(p, r, len(col), line, func(n int, rec []string) error {
			if rec[col["movieId"]] == "" {
				return b.bad(p, n, "movieId", errors.New("empty"))
			}
			b.addMovie(a, genres, year, rec[col["movieId"]], rec[col["title"]], rec[col["genres"]])
			return nil
		})
		if err != nil {
			return err
		}
	}
	if p := b.path("tags.csv"); exists(p) {
		r, col, line, c, err := csvFile(p, "movieId", "tag")
		if err != nil {
			return fmt.Errorf("load ml-latest tags: %w", err)
		}
		defer c.Close()
		a := b.itemAttrs()
		tags := a.categorical("tags")
		err = b.eachCSV(p, r, len(col), line, func(n int, rec []string) error {
			id, tag := rec[col["movieId"]], strings.ToLower(strings.TrimSpace(rec[col["tag"]]))
			if id == "" {
				return b.bad(p, n, "movieId", errors.New("empty"))
			}
			if tag != "" {
				a.addUnique(tags, b.items.Add(id), tag)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) loadGeneric() error {
	path := b.path("events.csv")
	r, col, line, c, err := csvFile(path, "user_id", "item_id", "timestamp")
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	defer c.Close()
	u, i, t := col["user_id"], col["item_id"], col["timestamp"]
	v, hasValue := col["value"]
	for name := range col {
		switch name {
		case "user_id", "item_id", "timestamp", "value":
		default:
			return &ParseError{File: path, Line: 1, Field: name, Err: errors.New("unknown column (events.csv has user_id,item_id,timestamp[,value])")}
		}
	}
	err = b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		val := ""
		if hasValue {
			val = rec[v]
		}
		return b.addEvent(path, n, rec[u], rec[i], rec[t], val, flexibleTime)
	})
	if err != nil {
		return err
	}
	if p := b.path("items.csv"); exists(p) {
		if err := b.loadGenericAttrs(p, "item_id", b.items, b.itemAttrs()); err != nil {
			return err
		}
	}
	if p := b.path("users.csv"); exists(p) {
		if err := b.loadGenericAttrs(p, "user_id", b.users, b.userAttrs()); err != nil {
			return err
		}
	}
	return nil
}

// loadGenericAttrs reads items.csv / users.csv: the ID column plus attribute columns. A column is
// numeric when every non-empty value parses as a number and none holds "|"; otherwise it is
// categorical, with "|" separating multiple values. A column named "title" is kept as the display
// name rather than an attribute.
func (b *builder) loadGenericAttrs(path, idCol string, ids *Dict, a *attrBuilder) error {
	r, col, line, c, err := csvFile(path, idCol)
	if err != nil {
		return fmt.Errorf("load attributes: %w", err)
	}
	defer c.Close()
	type row struct {
		n   int
		rec []string
	}
	var rows []row
	err = b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		if rec[col[idCol]] == "" {
			return b.bad(path, n, idCol, errors.New("empty"))
		}
		rows = append(rows, row{n, slices.Clone(rec)})
		return nil
	})
	if err != nil {
		return err
	}
	names := make([]string, len(col))
	for name, i := range col {
		names[i] = name
	}
	for ci, name := range names {
		if name == idCol {
			continue
		}
		numeric := len(rows) > 0
		for _, r := range rows {
			v := r.rec[ci]
			if v == "" {
				continue
			}
			if _, err := strconv.ParseFloat(v, 64); err != nil || strings.Contains(v, "|") {
				numeric = false
				break
			}
		}
		isTitle := name == "title" && idCol == "item_id"
		var k int
		if !isTitle {
			if numeric {
				k = a.numeric(name)
			} else {
				k = a.categorical(name)
			}
		}
		for _, r := range rows {
			id := ids.Add(r.rec[col[idCol]])
			v := r.rec[ci]
			switch {
			case v == "":
			case isTitle:
				b.titles[id] = v
			case numeric:
				x, _ := strconv.ParseFloat(v, 32)
				a.set(k, id, float32(x))
			default:
				for _, part := range strings.Split(v, "|") {
					if part = strings.TrimSpace(part); part != "" {
						a.addUnique(k, id, part)
					}
				}
			}
		}
	}
	return nil
}

func (b *builder) itemAttrs() *attrBuilder {
	if b.iattrs == nil {
		b.iattrs = &attrBuilder{}
	}
	return b.iattrs
}

func (b *builder) userAttrs() *attrBuilder {
	if b.uattrs == nil {
		b.uattrs = &attrBuilder{}
	}
	return b.uattrs
}

// attrBuilder collects attributes keyed by file-order IDs; finish permutes them to dense IDs.
type attrBuilder struct {
	cats []CategoricalColumn
	nums []NumericColumn
	// numeric columns are kept sparse until the ID count is known
	numVals []map[int32]float32
}

// categorical returns the index of the categorical column name, creating it.
func (a *attrBuilder) categorical(name string) int {
	for i, c := range a.cats {
		if c.Name == name {
			return i
		}
	}
	a.cats = append(a.cats, CategoricalColumn{Name: name, Dict: NewDict()})
	return len(a.cats) - 1
}

func (a *attrBuilder) numeric(name string) int {
	for i, c := range a.nums {
		if c.Name == name {
			return i
		}
	}
	a.nums = append(a.nums, NumericColumn{Name: name})
	a.numVals = append(a.numVals, map[int32]float32{})
	return len(a.nums) - 1
}

func (a *attrBuilder) add(col int, id int32, value string) {
	c := &a.cats[col]
	for int(id) >= len(c.Values) {
		c.Values = append(c.Values, nil)
	}
	c.Values[id] = append(c.Values[id], c.Dict.Add(value))
}

func (a *attrBuilder) addUnique(col int, id int32, value string) {
	c := &a.cats[col]
	v := c.Dict.Add(value)
	if int(id) < len(c.Values) && slices.Contains(c.Values[id], v) {
		return
	}
	a.add(col, id, value)
}

func (a *attrBuilder) set(col int, id int32, v float32) { a.numVals[col][id] = v }

// build returns the attributes re-indexed by perm (file-order ID → dense ID) over n entities.
func (a *attrBuilder) build(perm []int32, n int) *Attributes {
	if a == nil {
		return nil
	}
	out := &Attributes{}
	for _, c := range a.cats {
		vals := make([][]int32, n)
		for old, v := range c.Values {
			vals[perm[old]] = v
		}
		out.Categorical = append(out.Categorical, CategoricalColumn{Name: c.Name, Dict: c.Dict, Values: vals})
	}
	for i, c := range a.nums {
		vals := make([]float32, n)
		for j := range vals {
			vals[j] = float32(math.NaN())
		}
		for old, v := range a.numVals[i] {
			vals[perm[old]] = v
		}
		out.Numeric = append(out.Numeric, NumericColumn{Name: c.Name, Values: vals})
	}
	return out
}

// finish sorts events by time (stable) and assigns dense IDs by first appearance.
func (b *builder) finish(format string) *Dataset {
	slices.SortStableFunc(b.events, func(x, y rawEvent) int {
		switch {
		case x.time < y.time:
			return -1
		case x.time > y.time:
			return 1
		}
		return 0
	})
	users, userPerm := NewDict(), make([]int32, b.users.Len())
	items, itemPerm := NewDict(), make([]int32, b.items.Len())
	for i := range userPerm {
		userPerm[i] = -1
	}
	for i := range itemPerm {
		itemPerm[i] = -1
	}
	events := make([]Event, len(b.events))
	for k, e := range b.events {
		if userPerm[e.user] < 0 {
			userPerm[e.user] = users.Add(b.users.String(e.user))
		}
		if itemPerm[e.item] < 0 {
			itemPerm[e.item] = items.Add(b.items.String(e.item))
		}
		events[k] = Event{User: userPerm[e.user], Item: itemPerm[e.item], Time: e.time, Value: e.value}
	}
	// Entities known only from attribute files come last, in file order.
	for old, p := range userPerm {
		if p < 0 {
			userPerm[old] = users.Add(b.users.String(int32(old)))
		}
	}
	for old, p := range itemPerm {
		if p < 0 {
			itemPerm[old] = items.Add(b.items.String(int32(old)))
		}
	}
	ds := &Dataset{
		Name:      filepath.Base(filepath.Clean(b.dir)),
		Format:    format,
		Users:     users,
		Items:     items,
		Events:    events,
		HasValues: b.hasVal,
		ItemAttrs: b.iattrs.build(itemPerm, items.Len()),
		UserAttrs: b.uattrs.build(userPerm, users.Len()),
		Skipped:   b.skipped,
	}
	if len(b.titles) > 0 {
		ds.ItemTitles = make([]string, items.Len())
		for old, t := range b.titles {
			ds.ItemTitles[itemPerm[old]] = t
		}
	}
	return ds
}
