using System.Globalization;
using System.Text;

namespace ModelOps.Portal.Tracking.Query;

internal enum TokenKind
{
    End,
    Word,
    Field,
    Number,
    String,
    Operator,
    LeftParen,
    RightParen,
    Comma,
}

/// <summary>
/// One token. <see cref="Text"/> is the word, operator, key (for a field) or unescaped string; a field's
/// prefix is in <see cref="FieldKind"/>. <see cref="Position"/> is 1-based; <see cref="Raw"/> is the
/// source text, for messages.
/// </summary>
internal readonly record struct FilterToken(TokenKind Kind, string Text, int Position, string Raw, OperandKind FieldKind = default, double Number = 0)
{
    public bool IsWord(string keyword) => Kind == TokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>How the token reads in an error message.</summary>
    public string Describe() => Kind == TokenKind.End ? "the end of the input" : $"'{Shorten(Raw)}'";

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..37] + "...";
}

/// <summary>
/// Reads tokens on demand, so errors come in reading order. Words are <c>[A-Za-z_][A-Za-z0-9_]*</c>; a word
/// directly followed by <c>.</c> must be one of the prefixes and is read with its key as one field token.
/// A bare key is letters, digits, <c>_ . -</c>; any other key is quoted with backticks (a backtick doubled
/// to escape it). Numbers may carry a sign and an exponent. Strings use single or double quotes, doubled to escape.
/// </summary>
internal sealed class FilterTokenizer(string text, string? field)
{
    private int _index;
    private FilterToken? _peeked;

    public static bool IsBareKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';

    public FilterSyntaxException Error(int position, string problem) => new(position, problem, field);

    public FilterToken Peek() => _peeked ??= Read();

    /// <summary>The token taken most recently, for "after X" in messages.</summary>
    public FilterToken? Last { get; private set; }

    public FilterToken Take()
    {
        var token = Peek();
        _peeked = null;
        Last = token;
        return token;
    }

    private FilterToken Read()
    {
        while (_index < text.Length && char.IsWhiteSpace(text[_index])) _index++;
        var start = _index;
        if (_index >= text.Length) return new FilterToken(TokenKind.End, "", text.Length + 1, "");
        var c = text[_index];
        if (char.IsAsciiLetter(c) || c == '_') return ReadWordOrField();
        if (char.IsAsciiDigit(c) || (c == '.' && NextIsDigit(_index + 1))
            || (c is '-' or '+' && (NextIsDigit(_index + 1) || (At(_index + 1) == '.' && NextIsDigit(_index + 2)))))
        {
            return ReadNumber();
        }
        switch (c)
        {
            case '\'' or '"':
                return ReadString(c);
            case '(':
                _index++;
                return new FilterToken(TokenKind.LeftParen, "(", start + 1, "(");
            case ')':
                _index++;
                return new FilterToken(TokenKind.RightParen, ")", start + 1, ")");
            case ',':
                _index++;
                return new FilterToken(TokenKind.Comma, ",", start + 1, ",");
            case '`':
                throw Error(start + 1, "a backtick-quoted key needs a prefix, as in metrics.`val/loss`.");
        }
        var two = _index + 1 < text.Length ? text.Substring(_index, 2) : null;
        if (two is "!=" or "<>" or "<=" or ">=")
        {
            _index += 2;
            return new FilterToken(TokenKind.Operator, two == "<>" ? "!=" : two, start + 1, two);
        }
        if (two == "==") throw Error(start + 1, "'==' is not an operator; use '=' for equality.");
        if (c is '=' or '<' or '>')
        {
            _index++;
            return new FilterToken(TokenKind.Operator, c.ToString(), start + 1, c.ToString());
        }
        throw Error(start + 1, $"unexpected character '{c}'.");
    }

    private char At(int i) => i < text.Length ? text[i] : '\0';

    private bool NextIsDigit(int i) => char.IsAsciiDigit(At(i));

    private FilterToken ReadWordOrField()
    {
        var start = _index;
        while (_index < text.Length && (char.IsAsciiLetterOrDigit(text[_index]) || text[_index] == '_')) _index++;
        var word = text[start.._index];
        if (At(_index) != '.') return new FilterToken(TokenKind.Word, word, start + 1, word);

        OperandKind kind = word.ToLowerInvariant() switch
        {
            "metrics" => OperandKind.Metric,
            "params" => OperandKind.Param,
            "tags" => OperandKind.Tag,
            "attributes" => OperandKind.Attribute,
            _ => throw Error(start + 1, $"unknown prefix '{word}'; a column is metrics.<key>, params.<key>, tags.<key> or attributes.<name>."),
        };
        _index++; // the dot
        var keyStart = _index;
        string key;
        if (At(_index) == '`')
        {
            key = ReadQuoted('`', "key");
            if (key.Length == 0) throw Error(keyStart + 1, $"the key after '{word}.' is empty.");
        }
        else
        {
            while (_index < text.Length && IsBareKeyChar(text[_index])) _index++;
            key = text[keyStart.._index];
            if (key.Length == 0)
            {
                throw Error(keyStart + 1, $"expected a key after '{word}.'; quote a key with other characters in backticks, as in {word}.`val/loss`.");
            }
        }
        return new FilterToken(TokenKind.Field, key, start + 1, text[start.._index], kind);
    }

    private FilterToken ReadNumber()
    {
        var start = _index;
        if (text[_index] is '-' or '+') _index++;
        while (char.IsAsciiDigit(At(_index))) _index++;
        if (At(_index) == '.')
        {
            _index++;
            while (char.IsAsciiDigit(At(_index))) _index++;
        }
        if (At(_index) is 'e' or 'E')
        {
            var save = _index;
            _index++;
            if (At(_index) is '-' or '+') _index++;
            if (!char.IsAsciiDigit(At(_index))) _index = save;
            while (char.IsAsciiDigit(At(_index))) _index++;
        }
        if (char.IsAsciiLetterOrDigit(At(_index)) || At(_index) is '_' or '.')
        {
            while (_index < text.Length && (char.IsAsciiLetterOrDigit(text[_index]) || text[_index] is '_' or '.')) _index++;
            throw Error(start + 1, $"'{text[start.._index]}' is not a number.");
        }
        var raw = text[start.._index];
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Error(start + 1, $"the number {raw} is out of range.");
        }
        return new FilterToken(TokenKind.Number, raw, start + 1, raw, Number: value);
    }

    private FilterToken ReadString(char quote)
    {
        var start = _index;
        var value = ReadQuoted(quote, "string");
        return new FilterToken(TokenKind.String, value, start + 1, text[start.._index]);
    }

    /// <summary>Reads from an opening quote to its closing one; a doubled quote stands for one.</summary>
    private string ReadQuoted(char quote, string what)
    {
        var start = _index;
        _index++;
        var value = new StringBuilder();
        while (true)
        {
            if (_index >= text.Length) throw Error(start + 1, $"unterminated {what}: the {quote} here is never closed.");
            var c = text[_index++];
            if (c != quote)
            {
                value.Append(c);
                continue;
            }
            if (At(_index) != quote) return value.ToString();
            value.Append(quote);
            _index++;
        }
    }
}
