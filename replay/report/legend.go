package report

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Spacing, in points (vg.Length's unit): around the whole image, and between the plot and the
// legend strip on its right.
const (
	margin    vg.Length = 6
	legendGap vg.Length = 8
)

// render writes p as a PNG of width w (the plot) plus a strip on its right holding leg, so the
// legend never covers data however high the bars or lines reach. The strip starts at the top of
// the data area (below the title).
func render(path string, p *plot.Plot, leg plot.Legend, w, h vg.Length) error {
	legW := leg.Rectangle(draw.Canvas{}).Size().X + 2*legendGap
	img := vgimg.New(w+legW+2*margin, h+2*margin)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.BackgroundColor = nil // the image is white already
	dc = draw.Crop(dc, margin, -margin, margin, -margin)
	p.Draw(draw.Crop(dc, 0, -legW, 0, 0))
	top := vg.Length(0)
	if p.Title.Text != "" {
		top = p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	leg.Top, leg.Left = true, true
	leg.Padding = 3 // points between entries
	leg.Draw(draw.Crop(dc, w+legendGap, -legendGap, 0, -top-legendGap))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}
