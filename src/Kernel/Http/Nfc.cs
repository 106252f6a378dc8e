using System.Text;

namespace Kernel.Http;

/// <summary>
/// Unicode normalisation form C without ICU (the host runs with invariant globalization, where
/// <see cref="string.Normalize()"/> returns text unchanged): canonical decomposition (Hangul by formula), canonical
/// ordering of combining marks, then canonical composition (UAX #15), over tables generated from the Unicode
/// Character Database (<c>gen_nfc_tables.py</c>). Text below U+0300 is always NFC and returned as is.
/// </summary>
internal static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    private const int NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, (int A, int B)> Decomp = Build(NfcTables.Decompositions, 3, r => (r[0], (r[1], r[2])));
    private static readonly Dictionary<int, int> Ccc = Build(NfcTables.CombiningClasses, 2, r => (r[0], r[1]));
    private static readonly Dictionary<long, int> Comp = Build(NfcTables.Compositions, 3, r => (((long)r[0] << 21) | (uint)r[1], r[2]));

    public static bool IsQuickNfc(string s)
    {
        foreach (var c in s)
            if (c >= 0x300) return false;
        return true;
    }

    public static string Normalize(string s)
    {
        if (IsQuickNfc(s)) return s;
        var cps = new List<int>(s.Length);
        foreach (var r in s.EnumerateRunes()) Decompose(r.Value, cps);
        Reorder(cps);
        Compose(cps);
        var sb = new StringBuilder(s.Length);
        foreach (var cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        var result = sb.ToString();
        return result == s ? s : result;
    }

    private static int ClassOf(int cp) => Ccc.GetValueOrDefault(cp);

    private static void Decompose(int cp, List<int> into)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            var i = cp - SBase;
            into.Add(LBase + i / NCount);
            into.Add(VBase + i % NCount / TCount);
            if (i % TCount != 0) into.Add(TBase + i % TCount);
            return;
        }
        if (Decomp.TryGetValue(cp, out var d))
        {
            Decompose(d.A, into);
            if (d.B >= 0) Decompose(d.B, into);
            return;
        }
        into.Add(cp);
    }

    // Stable sort of each run of non-starters by combining class (insertion sort: runs are short).
    private static void Reorder(List<int> cps)
    {
        for (var i = 1; i < cps.Count; i++)
        {
            var c = ClassOf(cps[i]);
            if (c == 0) continue;
            var j = i;
            while (j > 0 && ClassOf(cps[j - 1]) > c)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    private static void Compose(List<int> cps)
    {
        if (cps.Count < 2) return;
        var starter = ClassOf(cps[0]) == 0 ? 0 : -1;
        var lastClass = starter == 0 ? 0 : 256;
        var w = 1;
        for (var i = 1; i < cps.Count; i++)
        {
            var cp = cps[i];
            var cls = ClassOf(cp);
            var blocked = starter < 0 || (lastClass != 0 && lastClass >= cls) || (lastClass == 0 && w - 1 != starter);
            if (!blocked && TryPair(cps[starter], cp, out var composite))
            {
                cps[starter] = composite;
                continue;
            }
            if (cls == 0)
            {
                starter = w;
                lastClass = 0;
            }
            else lastClass = cls;
            cps[w++] = cp;
        }
        cps.RemoveRange(w, cps.Count - w);
    }

    private static bool TryPair(int a, int b, out int composite)
    {
        if (a is >= LBase and < LBase + LCount && b is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
            return true;
        }
        if (a is >= SBase and < SBase + SCount && (a - SBase) % TCount == 0 && b is > TBase and < TBase + TCount)
        {
            composite = a + (b - TBase);
            return true;
        }
        return Comp.TryGetValue(((long)a << 21) | (uint)b, out composite);
    }

    private static Dictionary<TK, TV> Build<TK, TV>(int[] flat, int width, Func<int[], (TK, TV)> row) where TK : notnull
    {
        var d = new Dictionary<TK, TV>(flat.Length / width);
        for (var i = 0; i < flat.Length; i += width)
        {
            var (k, v) = row(flat[i..(i + width)]);
            d[k] = v;
        }
        return d;
    }
}
