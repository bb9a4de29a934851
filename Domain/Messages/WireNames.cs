namespace ClinicalTrials.Domain.Messages;

/// <summary>
/// The contract's names for the values of one enumeration: the one table the parser matches, silver writes and reads
/// back, and the API shows. <see cref="Names"/> are what we write; a site may also send an alias (FEMALE for F) and any
/// case, with a space for an underscore (not related is NOT_RELATED).
/// </summary>
public sealed class WireNameTable<T>
    where T : struct, Enum
{
    private readonly (T Value, string Name)[] _names;
    private readonly (T Value, string Name)[] _accepted;

    public WireNameTable((T Value, string Name)[] names, params (T Value, string Alias)[] aliases)
    {
        var unnamed = Enum.GetValues<T>().Where(v => !names.Any(n => n.Value.Equals(v))).ToArray();
        if (unnamed.Length > 0)
        {
            throw new ArgumentException($"{typeof(T).Name} values without a wire name: {string.Join(", ", unnamed)}.", nameof(names));
        }

        _names = names;
        _accepted = [.. names, .. aliases];
        Names = [.. names.Select(n => n.Name)];
    }

    /// <summary>The names we write, in the enumeration's order; the ones an error message lists.</summary>
    public IReadOnlyList<string> Names { get; }

    public string Of(T value)
    {
        foreach (var (candidate, name) in _names)
        {
            if (candidate.Equals(value))
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(T).Name} has no wire name for this value.");
    }

    /// <summary>The value a name or alias stands for, matched as a site's message is (case, surrounding spaces, space for underscore).</summary>
    public bool TryParse(ReadOnlySpan<char> text, out T value)
    {
        text = text.Trim();
        foreach (var (candidate, name) in _accepted)
        {
            if (Same(text, name))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>A name read back from our own storage, where anything unknown means the data is damaged.</summary>
    public T Parse(string text) =>
        TryParse(text, out var value) ? value : throw new InvalidDataException($"'{text}' is not a {typeof(T).Name} ({string.Join(", ", Names)}).");

    private static bool Same(ReadOnlySpan<char> text, string name)
    {
        if (text.Length != name.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i] == ' ' && name[i] == '_' ? '_' : char.ToUpperInvariant(text[i]);
            if (c != char.ToUpperInvariant(name[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The wire names of every enumeration a clinical message carries.</summary>
public static class WireNames
{
    public static readonly WireNameTable<StudyPhase> StudyPhase = new(
        [(Messages.StudyPhase.PhaseI, "Phase I"), (Messages.StudyPhase.PhaseII, "Phase II"), (Messages.StudyPhase.PhaseIII, "Phase III"),
            (Messages.StudyPhase.PhaseIV, "Phase IV")],
        (Messages.StudyPhase.PhaseI, "Phase 1"), (Messages.StudyPhase.PhaseII, "Phase 2"), (Messages.StudyPhase.PhaseIII, "Phase 3"),
        (Messages.StudyPhase.PhaseIV, "Phase 4"));

    public static readonly WireNameTable<Gender> Gender = new(
        [(Messages.Gender.Male, "M"), (Messages.Gender.Female, "F"), (Messages.Gender.Other, "OTHER"), (Messages.Gender.Unknown, "UNKNOWN")],
        (Messages.Gender.Male, "MALE"), (Messages.Gender.Female, "FEMALE"), (Messages.Gender.Other, "O"), (Messages.Gender.Unknown, "U"));

    public static readonly WireNameTable<Severity> Severity = new(
        [(Messages.Severity.Mild, "MILD"), (Messages.Severity.Moderate, "MODERATE"), (Messages.Severity.Severe, "SEVERE")]);

    public static readonly WireNameTable<DrugRelation> DrugRelation = new(
        [(Messages.DrugRelation.NotRelated, "NOT_RELATED"), (Messages.DrugRelation.Unlikely, "UNLIKELY"), (Messages.DrugRelation.Possible, "POSSIBLE"),
            (Messages.DrugRelation.Probable, "PROBABLE"), (Messages.DrugRelation.Definite, "DEFINITE")]);
}
