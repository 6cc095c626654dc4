using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelOps.Portal.Datasets;

/// <summary>The kinds of personal data the profile flags; the value is what <see cref="ColumnProfile.PersonalData"/> holds.</summary>
public static class PersonalDataKinds
{
    public const string Email = "email";
    public const string Phone = "phone";
    public const string NationalId = "national-id";
    public const string CardNumber = "card-number";

    public static readonly string[] All = [Email, Phone, NationalId, CardNumber];
}

/// <summary>
/// Flags columns that likely hold personal data, from a sample of their non-empty values. Each value is
/// matched against the kinds in a fixed order (e-mail, card number, national id, phone: the stricter
/// patterns first, so an SSN or a 13-digit card number is not counted as a phone); a column is flagged
/// with a kind when at least <see cref="MatchShare"/> of its sampled values are of that kind.
/// The patterns are deliberately narrow so that plain measurements are never flagged: a number with a
/// decimal point, an exponent or a sign other than a phone's leading '+' matches nothing, and digit-only
/// values match only with a checksum (Luhn, ISO 7064) or a phone's shape (E.164 '+', a national trunk '0',
/// a Chinese mobile number).
/// </summary>
public static partial class PersonalData
{
    /// <summary>The share of a column's sampled non-empty values that must be of one kind for the column to be flagged.</summary>
    public const double MatchShare = 0.6;

    /// <summary>How many non-empty values of a column the profile samples for the check (the first ones of the file).</summary>
    public const int SampleSize = 1000;

    /// <summary>The kind most of <paramref name="values"/> are (see <see cref="MatchShare"/>), or null.</summary>
    public static string? Detect(IEnumerable<string> values)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var present = 0;
        foreach (var raw in values)
        {
            var value = raw.Trim();
            if (value.Length == 0) continue;
            present++;
            if (Classify(value) is { } kind)
                counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
        if (present == 0) return null;
        foreach (var kind in PersonalDataKinds.All)
            if (counts.GetValueOrDefault(kind) >= MatchShare * present)
                return kind;
        return null;
    }

    /// <summary>The kind of one value, or null.</summary>
    public static string? Classify(string value)
    {
        value = value.Trim();
        if (IsEmail(value)) return PersonalDataKinds.Email;
        if (IsCardNumber(value)) return PersonalDataKinds.CardNumber;
        if (IsNationalId(value)) return PersonalDataKinds.NationalId;
        if (IsPhone(value)) return PersonalDataKinds.Phone;
        return null;
    }

    /// <summary>local@domain.tld: a dot-atom local part and a domain of labels with a top-level label of two or more letters.</summary>
    public static bool IsEmail(string value) => value.Length <= 254 && Email().IsMatch(value);

    /// <summary>13 to 19 digits (groups separated by single spaces or dashes), passing the Luhn check, not all zeros.</summary>
    public static bool IsCardNumber(string value)
    {
        if (!CardShape().IsMatch(value)) return false;
        var digits = Digits(value);
        return digits.Length is >= 13 and <= 19 && digits.Any(d => d != '0') && Luhn(digits);
    }

    /// <summary>A US Social Security number or a Chinese resident identity number.</summary>
    public static bool IsNationalId(string value) => IsUsSsn(value) || IsChineseResidentId(value);

    /// <summary>
    /// ddd-dd-dddd as the SSA issues them: the area is not 000, 666 or 9xx, the group not 00, the serial not 0000.
    /// </summary>
    public static bool IsUsSsn(string value)
    {
        var m = Ssn().Match(value);
        if (!m.Success) return false;
        var area = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return area != 0 && area != 666 && area < 900 && m.Groups[2].Value != "00" && m.Groups[3].Value != "0000";
    }

    /// <summary>
    /// GB 11643-1999: 17 digits (region, birth date yyyyMMdd, sequence) and an ISO 7064 MOD 11-2 check character (0-9 or X).
    /// </summary>
    public static bool IsChineseResidentId(string value)
    {
        if (value.Length != 18) return false;
        for (var i = 0; i < 17; i++)
            if (!char.IsAsciiDigit(value[i])) return false;
        var check = char.ToUpperInvariant(value[17]);
        if (!char.IsAsciiDigit(check) && check != 'X') return false;
        if (!DateTime.TryParseExact(value.AsSpan(6, 8), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var born)
            || born.Year < 1900 || born > DateTime.UtcNow)
            return false;
        return ChineseIdCheck(value.AsSpan(0, 17)) == check;
    }

    /// <summary>The ISO 7064 MOD 11-2 check character of the first 17 digits of a Chinese resident id.</summary>
    public static char ChineseIdCheck(ReadOnlySpan<char> first17)
    {
        ReadOnlySpan<int> weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        var sum = 0;
        for (var i = 0; i < 17; i++) sum += (first17[i] - '0') * weights[i];
        return "10X98765432"[sum % 11];
    }

    /// <summary>
    /// A phone number of 8 to 15 digits (E.164's maximum): "+" and digits with optional spaces, dashes and
    /// one parenthesised area code ("+44 20 7946 0958", "(555) 123-4567", "020-1234-5678"); or digits only,
    /// when they start with "+", with a national trunk "0" ("07700900123"), or are a Chinese mobile number
    /// (11 digits, 1[3-9]...). Dates and plain integers are not phones.
    /// </summary>
    public static bool IsPhone(string value)
    {
        if (value.Length > 24) return false;
        var digits = Digits(value);
        if (digits.Length is < 8 or > 15) return false;
        var body = value.StartsWith('+') ? value[1..] : value;
        if (body.All(char.IsAsciiDigit))
            return value.StartsWith('+') || TrunkPrefixed().IsMatch(body) || ChineseMobile().IsMatch(body);
        if (!FormattedPhone().IsMatch(value)) return false;
        return !DateLike().IsMatch(value);
    }

    /// <summary>The Luhn (mod 10) check over a string of digits.</summary>
    public static bool Luhn(string digits)
    {
        var sum = 0;
        var doubled = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubled)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    internal static string Digits(string value) => new(value.Where(char.IsAsciiDigit).ToArray());

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")]
    private static partial Regex Email();

    [GeneratedRegex(@"^\d+(?:[ -]\d+)*$")]
    private static partial Regex CardShape();

    [GeneratedRegex(@"^(\d{3})-(\d{2})-(\d{4})$")]
    private static partial Regex Ssn();

    [GeneratedRegex(@"^0[1-9]\d{7,13}$")]
    private static partial Regex TrunkPrefixed();

    [GeneratedRegex(@"^1[3-9]\d{9}$")]
    private static partial Regex ChineseMobile();

    /// <summary>Optional "+", digit groups separated by one space or dash, at most one "(area)" group.</summary>
    [GeneratedRegex(@"^\+?(?:\(\d{1,5}\)[ -]?)?\d{1,6}(?:[ -]\d{1,8}){1,5}$|^\+?\d{1,4}[ -]?\(\d{1,5}\)[ -]?\d{1,6}(?:[ -]\d{1,8}){0,4}$")]
    private static partial Regex FormattedPhone();

    /// <summary>2024-01-31, 31-01-2024 and the like: a date, not a phone.</summary>
    [GeneratedRegex(@"^(?:\d{4}[- ]\d{1,2}[- ]\d{1,2}|\d{1,2}[- ]\d{1,2}[- ]\d{4})$")]
    private static partial Regex DateLike();
}
