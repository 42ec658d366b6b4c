package datafetch

import (
	"fmt"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
)

// DefaultBaseURL is where GroupLens publishes the MovieLens archives and their .md5 files.
const DefaultBaseURL = "https://files.grouplens.org/datasets/movielens/"

// Set is a data set Fetch knows.
type Set struct {
	// Name is what `cascade data fetch` takes and the directory the set is unpacked to.
	Name string
	// Archive is the zip file's name under the base URL; the published checksum is Archive+".md5".
	Archive string
	// Root is the directory inside the archive that holds the files.
	Root string
	// Format is the loader dataset.Detect must find in the unpacked directory.
	Format string
	// About describes the set for help and logs.
	About string
}

var sets = []Set{
	{Name: "ml-100k", Archive: "ml-100k.zip", Root: "ml-100k", Format: dataset.FormatML100K,
		About: "MovieLens 100K, 100,000 ratings of 1,682 movies by 943 users, 1997-98, about 5 MB"},
	{Name: "ml-1m", Archive: "ml-1m.zip", Root: "ml-1m", Format: dataset.FormatML1M,
		About: "MovieLens 1M, 1,000,209 ratings of about 3,900 movies by 6,040 users, 2000-03, about 6 MB"},
	{Name: "ml-latest-small", Archive: "ml-latest-small.zip", Root: "ml-latest-small", Format: dataset.FormatMLLatest,
		About: "MovieLens latest-small, about 100,000 ratings of 9,000 movies by 600 users, about 1 MB"},
	{Name: "ml-25m", Archive: "ml-25m.zip", Root: "ml-25m", Format: dataset.FormatMLLatest,
		About: "MovieLens 25M, 25,000,095 ratings across 62,423 movies by 162,541 users, 1995-2019, about 250 MB"},
}

// Sets lists the data sets Fetch knows.
func Sets() []Set { return append([]Set(nil), sets...) }

// Names lists the names of the data sets Fetch knows.
func Names() []string {
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the set called name.
func Lookup(name string) (Set, error) {
	for _, s := range sets {
		if s.Name == name {
			return s, nil
		}
	}
	return Set{}, fmt.Errorf("unknown data set %q (known: %s)", name, strings.Join(Names(), ", "))
}
