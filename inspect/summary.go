package inspect

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// Summary counts what an image holds, as the record types' specs say to
// count it (image.Spec.Count), sizes it by record type, and checks its
// checksum.
type Summary struct {
	// Counts are what the image holds: one entry per name some record
	// type counts under, in record type order, zero when no record of
	// the image counts. A count broken down by a field with enum names
	// has every name, zero too, unless the count is zero.
	Counts []Count `json:"counts"`
	// Sizes are the bytes and count of records of each type present, by
	// type number.
	Sizes []TypeSize `json:"sizes"`
	// Total is the image's size: every record read, padding included.
	Total int64 `json:"total"`
	// Checksum is ChecksumOK, ChecksumMismatch or ChecksumMissing.
	Checksum string `json:"checksum"`
	// Stored and Computed are the tail's checksum and the one of the bytes
	// before it, when there is a tail.
	Stored   uint32 `json:"stored,omitempty"`
	Computed uint32 `json:"computed,omitempty"`
	// Error is the message of an ERROR record: why checkpoint failed.
	Error string `json:"error,omitempty"`
}

// Count is one count of a summary: "tasks", 4, broken down into 3 "live"
// and 1 "zombie".
type Count struct {
	Name string  `json:"name"`
	N    int64   `json:"n"`
	By   []Tally `json:"by,omitempty"`
}

// Tally is one part of a count: the records whose field has that symbol.
type Tally struct {
	Symbol string `json:"symbol"`
	N      int64  `json:"n"`
}

// The states of an image's checksum.
const (
	ChecksumOK       = "matches"
	ChecksumMismatch = "mismatch"
	ChecksumMissing  = "missing" // no tail record: an error record, or a cut image
)

// TypeSize is the space records of one type take.
type TypeSize struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	Bytes int64  `json:"bytes"`
}

// Count returns the count of that name ("tasks"), 0 when none has it.
func (s *Summary) Count(name string) int64 {
	for _, c := range s.Counts {
		if c.Name == name {
			return c.N
		}
	}
	return 0
}

// CountBy returns the part of the count of that name whose symbol is sym
// ("tasks", "zombie").
func (s *Summary) CountBy(name, sym string) int64 {
	for _, c := range s.Counts {
		if c.Name == name {
			for _, t := range c.By {
				if t.Symbol == sym {
					return t.N
				}
			}
		}
	}
	return 0
}

// String renders a count as "4 tasks (3 live, 1 zombie)", a count of one
// in the singular ("1 pipe").
func (c Count) String() string {
	s := strconv.FormatInt(c.N, 10) + " " + singular(c.Name, c.N)
	if len(c.By) > 0 {
		var by []string
		for _, t := range c.By {
			by = append(by, strconv.FormatInt(t.N, 10)+" "+t.Symbol)
		}
		s += " (" + strings.Join(by, ", ") + ")"
	}
	return s
}

// singular returns a count's name for n of them: the plural a spec names
// the count with ("file tables"), or for one its singular.
func singular(name string, n int64) string {
	if n == 1 {
		return strings.TrimSuffix(name, "s")
	}
	return name
}

// summarize counts the records of a report.
func summarize(rep *Report) Summary {
	s := Summary{Checksum: ChecksumMissing}
	counts := map[string]*Count{}
	by := map[string]map[string]int64{} // count name -> symbol -> n
	var names []string
	byNames := map[string][]string{} // the symbols of a By field's enum, in value order: each counted, zero too
	for _, spec := range image.Specs() {
		c := spec.Count
		if c.Name == "" || counts[c.Name] != nil {
			continue
		}
		counts[c.Name] = &Count{Name: c.Name}
		names = append(names, c.Name)
		if c.By != "" {
			m := spec.Field(c.By).Meaning.Names
			for _, v := range slices.Sorted(maps.Keys(m)) {
				byNames[c.Name] = append(byNames[c.Name], m[v])
			}
		}
	}
	sizes := map[image.Type]*TypeSize{}
	for _, r := range rep.Records {
		switch r.Type {
		case image.TypeError:
			s.Error = string(r.Tail)
		case image.TypeTail:
			s.Stored, s.Computed = uint32(r.value("CRC")), r.CRC
			s.Checksum = ChecksumOK
			if s.Stored != s.Computed {
				s.Checksum = ChecksumMismatch
			}
		}
		if c := r.Spec.Count; c.Name != "" {
			n := int64(1)
			if c.Bytes {
				n = int64(len(r.Tail))
			}
			counts[c.Name].N += n
			if f := r.Field(c.By); f != nil {
				sym := f.Symbol
				if sym == "" {
					sym = strconv.FormatInt(f.Int(), 10)
				}
				if by[c.Name] == nil {
					by[c.Name] = map[string]int64{}
				}
				by[c.Name][sym] += n
			}
		}
		ts := sizes[r.Type]
		if ts == nil {
			ts = &TypeSize{Type: r.Type.String()}
			sizes[r.Type] = ts
		}
		ts.Count++
		ts.Bytes += r.Size()
		s.Total += r.Size()
	}
	for _, name := range names {
		c := counts[name]
		syms := byNames[name]
		for _, sym := range slices.Sorted(maps.Keys(by[name])) {
			if !slices.Contains(syms, sym) {
				syms = append(syms, sym)
			}
		}
		for _, sym := range syms {
			if c.N > 0 {
				c.By = append(c.By, Tally{Symbol: sym, N: by[name][sym]})
			}
		}
		s.Counts = append(s.Counts, *c)
	}
	for _, t := range slices.Sorted(maps.Keys(sizes)) {
		s.Sizes = append(s.Sizes, *sizes[t])
	}
	return s
}
