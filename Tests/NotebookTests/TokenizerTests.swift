import Testing
@testable import Notebook

/// The tokenizer: words, quotes, escapes, options, pipes, comments, errors with columns.
@Suite struct TokenizerTests {
    /// Tokens as compact strings: `w:word`, `q:quoted`, `o:key=value`, `|`.
    func shapes(_ line: String) throws -> [String] {
        try Tokenizer.tokenize(line).map { token in
            switch token.kind {
            case .word(let quoted): return (quoted ? "q:" : "w:") + token.text
            case .option(let key): return "o:\(key)=\(token.text)"
            case .pipe: return "|"
            }
        }
    }

    func syntaxError(_ line: String) -> String? {
        do {
            _ = try Tokenizer.tokenize(line)
            return nil
        } catch {
            return QuantlabError.render(error)
        }
    }

    @Test func wordsAndOptions() throws {
        #expect(try shapes("trial run all epochs=3 batch=64 lr=0.05")
                == ["w:trial", "w:run", "w:all", "o:epochs=3", "o:batch=64", "o:lr=0.05"])
        #expect(try shapes("   seed    42   ") == ["w:seed", "w:42"])
        #expect(try shapes("") == [])
    }

    @Test func quotedStrings() throws {
        #expect(try shapes(#"sql "select * from runs where name = 'fp'""#)
                == ["w:sql", "q:select * from runs where name = 'fp'"])
        #expect(try shapes(#"echo "say \"hi\"" "a\\b""#) == ["w:echo", #"q:say "hi""#, #"q:a\b"#])
        #expect(try shapes(#"echo """#) == ["w:echo", "q:"])
        #expect(try shapes(#"echo "a=b""#) == ["w:echo", "q:a=b"])
    }

    @Test func quotedOptionValues() throws {
        #expect(try shapes(#"plot curves svg="my plots/curves.svg""#)
                == ["w:plot", "w:curves", "o:svg=my plots/curves.svg"])
        #expect(try shapes(#"x title="""#) == ["w:x", "o:title="])
        #expect(try shapes("precision net conv*=w4a4 dense1=w8a8")
                == ["w:precision", "w:net", "o:conv*=w4a4", "o:dense1=w8a8"])
    }

    @Test func pipesStandAlone() throws {
        #expect(try shapes("model define net = conv 16 k3|relu | dense 10")
                == ["w:model", "w:define", "w:net", "w:=", "w:conv", "w:16", "w:k3", "|", "w:relu", "|", "w:dense", "w:10"])
        #expect(try shapes(#"echo "a|b""#) == ["w:echo", "q:a|b"])
    }

    @Test func comments() throws {
        #expect(try shapes("# only a comment") == [])
        #expect(try shapes("seed 42 # the default") == ["w:seed", "w:42"])
        #expect(try shapes("seed 42# tight") == ["w:seed", "w:42"])
        #expect(try shapes(##"echo "# not a comment""##) == ["w:echo", "q:# not a comment"])
    }

    @Test func columnsAndRanges() throws {
        let tokens = try Tokenizer.tokenize("  data load  x=\"a b\"")
        #expect(tokens.map(\.column) == [3, 8, 14])
        #expect(tokens.map(\.range) == [2..<6, 7..<11, 13..<20])
    }

    @Test func errorsNameTheColumn() {
        #expect(syntaxError(#"echo "unfinished"#) == "error: column 6: unterminated string; add a closing \"")
        #expect(syntaxError(#"echo "tab\t""#) == #"error: column 10: unknown escape '\t' in a string; only \" and \\ are escapes"#)
        #expect(syntaxError("trial run epochs=") == "error: column 11: option 'epochs' has no value; write epochs=VALUE")
        #expect(syntaxError(#"echo "trailing\"#) == "error: column 6: unterminated string; add a closing \"")
        // A NUL cut the message printed through fputs after "unknown command 'ech" (eleventh-pass audit).
        #expect(syntaxError("ech\0o c") == "error: column 4: expected text, found a NUL byte (0x00)")
        #expect(syntaxError("echo a # note\0") == "error: column 14: expected text, found a NUL byte (0x00)")
    }

    @Test func unicodeColumnsCountCharacters() {
        #expect(syntaxError(#"echo née "x"#) == "error: column 10: unterminated string; add a closing \"")
    }
}
