using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Pseudonyms;

/// <inheritdoc cref="ISubjectPseudonymGrain"/>
public sealed class SubjectPseudonymGrain(
    [PersistentState("subject-pseudonyms", StorageNames.Clinical)] IPersistentState<SubjectPseudonymState> state) : Grain, ISubjectPseudonymGrain
{
    // Base32 without the look-alikes' worries: upper-case letters and digits 2-7, as the patient id shape asks.
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public async Task<ImmutableArray<string>> PseudonymiseAsync(ImmutableArray<string> subjects)
    {
        if (state.State.Key.Length == 0)
        {
            // Written before any pseudonym is handed out: a pseudonym given once is given again after a restart.
            state.State.Key = RandomNumberGenerator.GetBytes(32);
            await state.WriteStateAsync();
        }

        return Pseudonymise(state.State.Key, subjects);
    }

    private static ImmutableArray<string> Pseudonymise(byte[] key, ImmutableArray<string> subjects)
    {
        using var hmac = new HMACSHA256(key);
        var ids = ImmutableArray.CreateBuilder<string>(subjects.Length);
        Span<char> id = stackalloc char[10];
        foreach (var subject in subjects)
        {
            var hash = hmac.ComputeHash(Encoding.UTF8.GetBytes(subject));
            id[0] = 'P';
            id[1] = 'T';
            // 8 characters of 5 bits: the first 40 bits of the hash.
            var bits = ((ulong)hash[0] << 32) | ((ulong)hash[1] << 24) | ((ulong)hash[2] << 16) | ((ulong)hash[3] << 8) | hash[4];
            for (var i = 0; i < 8; i++)
            {
                id[2 + i] = Alphabet[(int)((bits >> (35 - (5 * i))) & 31)];
            }

            ids.Add(new string(id));
        }

        return ids.MoveToImmutable();
    }
}
