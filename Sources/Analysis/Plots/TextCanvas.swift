/// A grid of characters that a text plot draws into; (0, 0) is the top-left cell.
/// Writes outside the grid are ignored, so callers need not clip.
struct TextCanvas {
    let columns: Int
    let rows: Int
    private var cells: [[Character]]

    init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
        cells = Array(repeating: Array(repeating: " ", count: columns), count: rows)
    }

    subscript(column: Int, row: Int) -> Character {
        get { cells[row][column] }
        set {
            guard column >= 0, column < columns, row >= 0, row < rows else { return }
            cells[row][column] = newValue
        }
    }

    /// A straight segment by Bresenham's algorithm, endpoints included, so steep
    /// segments stay connected.
    mutating func segment(from a: (column: Int, row: Int), to b: (column: Int, row: Int), _ mark: Character) {
        var c = a.column, r = a.row
        let dc = abs(b.column - c), dr = -abs(b.row - r)
        let sc = c < b.column ? 1 : -1, sr = r < b.row ? 1 : -1
        var error = dc + dr
        while true {
            self[c, r] = mark
            if c == b.column && r == b.row { return }
            let e2 = 2 * error
            if e2 >= dr { error += dr; c += sc }
            if e2 <= dc { error += dc; r += sr }
        }
    }

    /// Writes `text` starting at a cell, clipped to the grid.
    mutating func write(_ text: String, column: Int, row: Int) {
        for (i, ch) in text.enumerated() { self[column + i, row] = ch }
    }

    /// Row `r` as a string (trailing spaces kept; the frame trims whole lines).
    func line(_ r: Int) -> String { String(cells[r]) }
}
