//go:build integration

package main

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStatusPageInChromium renders the page in headless Chromium, as a user
// would see it: the DOM holds the live state, and the screenshot shows the
// header and the green "succeeded" badge.
func TestStatusPageInChromium(t *testing.T) {
	const key = "gsk_chromiumSecret"
	_, groqURL := newGroqFixture(t, key)
	e := startExporter(t, map[string]string{"GROQ_API_KEY": key}, "--groq.url="+groqURL)
	e.get(t, "/metrics")

	dir := t.TempDir()
	shot := filepath.Join(dir, "status.png")
	browse := browser(t, e.url+"/", dir, "1000,1400")

	dom := browse("--dump-dom")
	for _, want := range []string{"succeeded", "groq_requests_rate1m", "openai/gpt-oss-120b", `href="/probe?organization=default"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}

	img := screenshot(t, browse, shot)
	// Count the pixels of the header's orange and the badge's green.
	var header, badge int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch rgb := [3]uint32{r >> 8, g >> 8, bl >> 8}; {
			case near(rgb, [3]uint32{0xf5, 0x50, 0x36}):
				header++
			case near(rgb, [3]uint32{0x1a, 0x7f, 0x37}):
				badge++
			}
		}
	}
	if header < 10000 || badge < 200 {
		t.Errorf("screenshot %dx%d has %d header and %d badge pixels: page not rendered with data?", b.Dx(), b.Dy(), header, badge)
	}
	if t.Failed() {
		t.Logf("screenshot kept at %s", shot)
	}
}

// TestStatusPageManyInChromium renders the page of 40 organizations, two of
// them failing, in headless Chromium: the two are the first rows of the
// table, with red badges at the top of the screenshot, and the page is under
// 40 KB.
func TestStatusPageManyInChromium(t *testing.T) {
	e := manyOrganizations(t)
	if _, page := e.get(t, "/"); len(page) > maxStatusPage {
		t.Errorf("the status page is %d bytes, want at most %d", len(page), maxStatusPage)
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "status.png")
	browse := browser(t, e.url+"/", dir, "1200,700")
	dom := browse("--dump-dom")
	rows := regexp.MustCompile(`<tr class="state-(\w+)"><td><a href="\?organization=([\w-]+)">`).FindAllStringSubmatch(dom, -1)
	if len(rows) != 40 || rows[0][2] != "team-17" || rows[1][2] != "team-29" || rows[0][1] != "down" || rows[1][1] != "down" {
		t.Fatalf("rendered rows %v: want 40, team-17 and team-29 down first", rows)
	}

	// The first screen (700 pixels high) shows the two red badges.
	img := screenshot(t, browse, shot)
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near([3]uint32{r >> 8, g >> 8, bl >> 8}, [3]uint32{0xcf, 0x22, 0x2e}) {
				red++
			}
		}
	}
	if red < 300 {
		t.Errorf("the first screen has %d pixels of the red badges: failing organizations not at the top?", red)
		t.Logf("screenshot kept at %s", shot)
	}
}

func near(a, b [3]uint32) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > 8 || d < -8 {
			return false
		}
	}
	return true
}

// browser returns a function that runs headless Chromium on url with a
// profile in dir, a window of size ("width,height") and the extra flags it is
// given, and returns what Chromium printed. The flags keep Chromium off the
// network: only url is fetched.
// screenshot has browse save the page as shot, and returns the image.
func screenshot(t *testing.T, browse func(extra ...string) string, shot string) image.Image {
	t.Helper()
	browse("--screenshot=" + shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

func browser(t *testing.T, url, dir, size string) func(extra ...string) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install it with `apt-get install -y chromium`")
	}
	return func(extra ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=" + size}, extra...)
		out, err := exec.CommandContext(ctx, chromium, append(args, url)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", extra, err)
		}
		return string(out)
	}
}
