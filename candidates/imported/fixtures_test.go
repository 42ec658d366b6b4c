package imported_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"github.com/parquet-go/parquet-go"
	"gonum.org/v1/gonum/mat"
)

// The tests build every fixture themselves: a Spark ALSModel.save directory of Parquet part files
// written with parquet-go, and .npy files written with npyio (an independent writer of the format)
// or byte by byte where a test needs a malformed one.

// vectors is a fixture's factor table: external or Spark IDs with their vectors.
type vectors struct {
	ids  []string
	vecs [][]float32
}

func (v vectors) lookup(id string) []float32 {
	for i, x := range v.ids {
		if x == id {
			return v.vecs[i]
		}
	}
	return nil
}

func randomVectors(rng *rand.Rand, ids []string, k int) vectors {
	v := vectors{ids: ids}
	for range ids {
		x := make([]float32, k)
		for d := range x {
			x[d] = float32(rng.NormFloat64() * 0.5)
		}
		v.vecs = append(v.vecs, x)
	}
	return v
}

// sparkRow is the row Spark writes into userFactors/itemFactors: every column nullable, the
// list's elements not (Array[Float] of a Scala tuple).
type sparkRow struct {
	ID       *int32    `parquet:"id,optional"`
	Features []float32 `parquet:"features,optional,list"`
}

// requiredRow has no nullable column.
type requiredRow struct {
	ID       int32     `parquet:"id"`
	Features []float32 `parquet:"features,list"`
}

// longDoubleRow has long IDs and double features (a cast DataFrame).
type longDoubleRow struct {
	ID       int64     `parquet:"id"`
	Features []float64 `parquet:"features,list"`
}

// nullableElemRow writes with nullableSchema: the elements are nullable too.
type nullableElemRow struct {
	ID       int32      `parquet:"id"`
	Features []*float32 `parquet:"features,list"`
}

var nullableSchema = parquet.NewSchema("spark_schema", parquet.Group{
	"id":       parquet.Optional(parquet.Int(32)),
	"features": parquet.Optional(parquet.List(parquet.Optional(parquet.Leaf(parquet.FloatType)))),
})

// writeParquet writes rows to path as a snappy-compressed Parquet file, as Spark does.
func writeParquet[T any](t testing.TB, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, append([]parquet.WriterOption{parquet.Compression(&parquet.Snappy)}, opts...)...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sparkRows(v vectors) []sparkRow {
	rows := make([]sparkRow, len(v.ids))
	for i, id := range v.ids {
		var n int32
		fmt.Sscan(id, &n)
		rows[i] = sparkRow{ID: &n, Features: v.vecs[i]}
	}
	return rows
}

// writeSparkTable writes a factor table as Spark does: two part files, a _SUCCESS marker and
// .crc files beside them.
func writeSparkTable(t testing.TB, dir string, rows []sparkRow) {
	t.Helper()
	half := len(rows) / 2
	for i, part := range [][]sparkRow{rows[:half], rows[half:]} {
		name := fmt.Sprintf("part-%05d-3f1c2b9e-6a41-4d55-9a8e-1a2b3c4d5e6f-c000.snappy.parquet", i)
		writeParquet(t, filepath.Join(dir, name), part)
		writeFile(t, filepath.Join(dir, "."+name+".crc"), "crc")
	}
	writeFile(t, filepath.Join(dir, "_SUCCESS"), "")
}

// writeSparkModel writes the directory ALSModel.save(dir) would: metadata, userFactors and
// itemFactors. The vectors' IDs are Spark's integers, in decimal.
func writeSparkModel(t testing.TB, dir string, rank int, users, items vectors) {
	t.Helper()
	writeSparkMetadata(t, dir, fmt.Sprintf(`{"class":"org.apache.spark.ml.recommendation.ALSModel","timestamp":1700000000000,"sparkVersion":"3.5.1","uid":"als_4f0b1c","paramMap":{"userCol":"user","itemCol":"item","coldStartStrategy":"drop"},"defaultParamMap":{"predictionCol":"prediction","blockSize":4096},"rank":%d}`, rank))
	writeSparkTable(t, filepath.Join(dir, "userFactors"), sparkRows(users))
	writeSparkTable(t, filepath.Join(dir, "itemFactors"), sparkRows(items))
}

func writeSparkMetadata(t testing.TB, dir, line string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "metadata", "part-00000"), line+"\n")
	writeFile(t, filepath.Join(dir, "metadata", ".part-00000.crc"), "crc")
	writeFile(t, filepath.Join(dir, "metadata", "_SUCCESS"), "")
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeIDs(t testing.TB, path string, ids []string) {
	t.Helper()
	writeFile(t, path, strings.Join(ids, "\n")+"\n")
}

// writeNPY32 writes the vectors as a float32 (n, k) .npy file with npyio.
func writeNPY32(t testing.TB, path string, vecs [][]float32) {
	t.Helper()
	var buf bytes.Buffer
	if err := npyio.Write(&buf, vecs); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
}

// writeNPY64 writes the vectors as a float64 (n, k) .npy file with npyio.
func writeNPY64(t testing.TB, path string, vecs [][]float32) {
	t.Helper()
	m := mat.NewDense(len(vecs), len(vecs[0]), nil)
	for i, v := range vecs {
		for j, x := range v {
			m.Set(i, j, float64(x))
		}
	}
	var buf bytes.Buffer
	if err := npyio.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
}

// rawNPY builds a version 1.0 .npy file from a header dictionary and data bytes, padded as numpy
// pads it.
func rawNPY(header string, data []byte) []byte {
	pad := 64 - (10+len(header)+1)%64
	h := header + strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// float32Bytes encodes values in the given byte order.
func float32Bytes(order binary.ByteOrder, vals ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, order, vals)
	return b.Bytes()
}
