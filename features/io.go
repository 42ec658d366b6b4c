package features

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cascade-rec/cascade/artifact"
)

// format is the artifact kind and version of saved statistics.
var format = artifact.Format{Kind: "features", Version: 1}

// Save writes the statistics to path as an artifact of kind "features" and returns the file's
// hex SHA-256. Only the raw tables are stored, sorted runs as varint gaps; Load recomputes the
// derived tables with the same code, so loaded statistics give bit-identical features.
func (s *Stats) Save(path string) (string, error) {
	return format.Save(path, func(e *artifact.Encoder) {
		e.JSON(s.cfg)
		e.Int(s.numItems)
		e.Int(int(s.base))
		putOffsets(e, s.itemOff)
		e.String(string(appendRuns(nil, s.itemOff, s.itemTimes, s.base)))
		e.Bool(s.itemVals != nil)
		if s.itemVals != nil {
			e.Float32s(s.itemVals)
		}
		putOffsets(e, s.nbrOff)
		e.String(string(appendRuns(nil, s.nbrOff, s.nbrItem, 0)))
		putOffsets(e, s.pairOff)
		e.String(string(appendRuns(nil, s.pairOff, s.pairTimes, 0)))
		e.String(s.catName)
		putOffsets(e, s.catOff)
		e.Int32s(s.catVals)
		e.Strings(s.numCols)
		for _, v := range s.numVals {
			e.Float32s(v)
		}
	})
}

// Load reads statistics written by Save. A damaged, foreign or inconsistent file is refused
// with an error wrapping artifact.ErrCorrupt.
func Load(path string) (*Stats, error) {
	return artifact.Load(path, format, decode)
}

func decode(payload []byte) (*Stats, error) {
	d := &reader{Decoder: artifact.NewDecoder(payload), size: len(payload)}
	s := &Stats{}
	dec := json.NewDecoder(strings.NewReader(d.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	s.numItems = d.Int()
	s.base = int64(d.Int())
	s.itemOff = d.offsets()
	itemTimes := d.String()
	if d.Bool() {
		s.itemVals = d.Float32s()
	}
	s.nbrOff = d.offsets()
	nbrItem := d.String()
	s.pairOff = d.offsets()
	pairTimes := d.String()
	s.catName = d.String()
	s.catOff = d.offsets()
	s.catVals = d.Int32s()
	s.numCols = d.Strings()
	for range s.numCols {
		s.numVals = append(s.numVals, d.Float32s())
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	if s.numItems < 0 || len(s.itemOff) != s.numItems+1 || len(s.nbrOff) != s.numItems+1 {
		return nil, fmt.Errorf("%d item and %d neighbour offsets for %d items", len(s.itemOff), len(s.nbrOff), s.numItems)
	}
	var err error
	if s.itemTimes, err = readRuns[int64](itemTimes, s.itemOff, s.base); err != nil {
		return nil, fmt.Errorf("item times: %w", err)
	}
	if s.nbrItem, err = readRuns[int32](nbrItem, s.nbrOff, 0); err != nil {
		return nil, fmt.Errorf("neighbours: %w", err)
	}
	if len(s.pairOff) != len(s.nbrItem)+1 {
		return nil, fmt.Errorf("%d pair offsets for %d pairs", len(s.pairOff), len(s.nbrItem))
	}
	if s.pairTimes, err = readRuns[uint32](pairTimes, s.pairOff, 0); err != nil {
		return nil, fmt.Errorf("co-occurrence times: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	s.derive()
	return s, nil
}

// putOffsets writes offsets (0 = off[0] ≤ off[1] ≤ …) as their count and the varint gaps.
func putOffsets(e *artifact.Encoder, off []int) {
	e.Int(len(off))
	var buf []byte
	for i := 1; i < len(off); i++ {
		buf = binary.AppendUvarint(buf, uint64(off[i]-off[i-1]))
	}
	e.String(string(buf))
}

// appendRuns encodes the sorted runs v[off[r]:off[r+1]] compactly: each run's first value as a
// signed varint from base, then the gaps as unsigned varints (small for busy items).
func appendRuns[T int64 | int32 | uint32](buf []byte, off []int, v []T, base int64) []byte {
	for r := 0; r+1 < len(off); r++ {
		prev := base
		for k, x := range v[off[r]:off[r+1]] {
			if k == 0 {
				buf = binary.AppendVarint(buf, int64(x)-base)
			} else {
				buf = binary.AppendUvarint(buf, uint64(int64(x)-prev))
			}
			prev = int64(x)
		}
	}
	return buf
}

// readRuns decodes what appendRuns wrote for the runs of off.
func readRuns[T int64 | int32 | uint32](blob string, off []int, base int64) ([]T, error) {
	n := off[len(off)-1]
	if n > len(blob) { // every value takes at least one byte
		return nil, fmt.Errorf("%d values in %d bytes", n, len(blob))
	}
	out := make([]T, 0, n)
	p := []byte(blob)
	for r := 0; r+1 < len(off); r++ {
		prev := base
		for k := off[r]; k < off[r+1]; k++ {
			var v int64
			var w int
			if k == off[r] {
				var d int64
				d, w = binary.Varint(p)
				v = base + d
			} else {
				var d uint64
				d, w = binary.Uvarint(p)
				v = prev + int64(d)
				if d >= 1<<62 { // a gap no real table has; it could wrap around
					w = -1
				}
			}
			if w <= 0 || int64(T(v)) != v {
				return nil, fmt.Errorf("bad value at position %d", k)
			}
			p = p[w:]
			out = append(out, T(v))
			prev = v
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(p))
	}
	return out, nil
}

// reader adds what the artifact decoder lacks; a length beyond what the payload can hold is
// an error rather than an allocation.
type reader struct {
	*artifact.Decoder
	size int // payload bytes
	err  error
}

// offsets reads what putOffsets wrote.
func (r *reader) offsets() []int {
	n := r.Int()
	blob := []byte(r.String())
	if r.err != nil {
		return nil
	}
	if n < 1 || n-1 > len(blob) {
		r.err = fmt.Errorf("%w: %d offsets in %d bytes", artifact.ErrCorrupt, n, len(blob))
		return nil
	}
	off := make([]int, n)
	for i := 1; i < n; i++ {
		d, w := binary.Uvarint(blob)
		if w <= 0 || d > uint64(r.size)*8 { // no table holds more values than the payload has bits
			r.err = fmt.Errorf("%w: bad offset %d", artifact.ErrCorrupt, i)
			return nil
		}
		blob = blob[w:]
		off[i] = off[i-1] + int(d)
	}
	if len(blob) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the offsets", artifact.ErrCorrupt, len(blob))
		return nil
	}
	return off
}
