package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/datafetch"
	"github.com/cascade-rec/cascade/progress"
)

type dataCmd struct {
	Fetch dataFetchCmd `cmd:"" help:"Download a MovieLens data set from GroupLens, check its published MD5, unpack it into a cache directory and print the directory --data takes."`
	List  dataListCmd  `cmd:"" help:"List the data sets 'data fetch' knows."`
}

// The enum and the URL are written out (kong tags are constant); TestDataFlagsMatchCatalogue keeps
// them in step with datafetch.
type dataFetchCmd struct {
	Set     string `arg:"" enum:"ml-100k,ml-1m,ml-latest-small,ml-25m" help:"The data set: ml-100k, ml-1m, ml-latest-small or ml-25m ('cascade data list' describes them)."`
	Dir     string `type:"path" placeholder:"DIR" help:"Cache directory; the set goes to DIR/NAME (default: the user cache directory's cascade/datasets)."`
	BaseURL string `name:"base-url" env:"CASCADE_DATA_URL" placeholder:"URL" help:"Where the archives and their .md5 files are: a mirror or a local server (default: GroupLens, https://files.grouplens.org/datasets/movielens/)."`
}

// Run fetches the set (or finds it in the cache) and prints its directory alone on stdout, so that
// --data "$(cascade data fetch ml-100k)" works.
func (c *dataFetchCmd) Run(g *Globals) error {
	dir, err := datafetch.Fetch(g.Ctx, c.Set, datafetch.Options{
		BaseURL: c.BaseURL, Dir: c.Dir, Logger: g.Log,
		Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log},
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(g.Stdout, dir)
	return nil
}

type dataListCmd struct{}

// Run prints each known set with its description and archive.
func (c *dataListCmd) Run(g *Globals) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tarchive\tabout")
	for _, s := range datafetch.Sets() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Archive, s.About)
	}
	return tw.Flush()
}
