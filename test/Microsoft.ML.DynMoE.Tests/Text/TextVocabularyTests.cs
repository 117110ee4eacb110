using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DynMoE.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Text;

[TestClass]
public sealed class TextVocabularyTests
{
    /// <summary>A vocabulary holding every tiktoken id of <paramref name="texts"/>.</summary>
    private static TextVocabulary VocabularyOf(params string[] texts)
    {
        var counts = new Dictionary<int, int>();
        foreach (var text in texts)
            foreach (int id in TextVocabulary.TokenizeToBaseIds(text))
                counts[id] = counts.GetValueOrDefault(id) + 1;
        return TextVocabulary.FromCounts(counts, 1);
    }

    private static int[] Encode(TextVocabulary vocabulary, string? first, string? second, int budget, TextTruncation truncation = TextTruncation.Head)
    {
        var buffer = new float[budget];
        int count = vocabulary.Encode(first, second, buffer, truncation);
        return buffer.Take(count).Select(v => (int)v).ToArray();
    }

    [TestMethod]
    public void CompactIdsFollowTiktokenOrderAfterTheThreeSpecialIds()
    {
        var ids = TextVocabulary.TokenizeToBaseIds(" hello world hello");
        Assert.HasCount(3, ids);
        Assert.AreEqual(ids[0], ids[2], "the same word piece gets the same id");
        var vocabulary = TextVocabulary.FromCounts(new Dictionary<int, int> { [ids[0]] = 2, [ids[1]] = 1 }, minimumCount: 2);
        Assert.AreEqual(4, vocabulary.Size, "padding, unknown, separator and the one id seen twice");
        CollectionAssert.AreEqual(new[] { 3, TextVocabulary.UnknownId, 3 }, Encode(vocabulary, " hello world hello", null, 10));
        Assert.AreEqual(" hello", vocabulary.Describe(3), "a word piece keeps its leading space");
        Assert.AreEqual("[UNK]", vocabulary.Describe(TextVocabulary.UnknownId));
    }

    [TestMethod]
    public void EmptyAndMissingTextsEncodeToNoTokens()
    {
        var vocabulary = VocabularyOf("a b c");
        Assert.IsEmpty(Encode(vocabulary, "", null, 8));
        Assert.IsEmpty(Encode(vocabulary, null, null, 8));
        CollectionAssert.AreEqual(new[] { TextVocabulary.SeparatorId }, Encode(vocabulary, null, "", 8), "a pair of empty texts is just the separator");
    }

    [TestMethod]
    public void TruncationKeepsTheHeadOrTheHeadAndTheTail()
    {
        string text = string.Join(" ", Enumerable.Range(0, 10).Select(i => "w" + i));
        var vocabulary = VocabularyOf(text);
        var all = Encode(vocabulary, text, null, 100);
        Assert.IsGreaterThanOrEqualTo(10, all.Length);
        CollectionAssert.AreEqual(all.Take(4).ToArray(), Encode(vocabulary, text, null, 4, TextTruncation.Head));
        CollectionAssert.AreEqual(all.Take(2).Concat(all.Skip(all.Length - 2)).ToArray(), Encode(vocabulary, text, null, 4, TextTruncation.HeadAndTail));
        CollectionAssert.AreEqual(all.Take(3).Concat(all.Skip(all.Length - 2)).ToArray(), Encode(vocabulary, text, null, 5, TextTruncation.HeadAndTail), "an odd budget gives the head the extra token");
    }

    [TestMethod]
    public void SentencePairsShareTheBudgetAroundOneSeparator()
    {
        string longText = string.Join(" ", Enumerable.Range(0, 20).Select(i => "x" + i));
        var vocabulary = VocabularyOf(longText, "short one");
        var first = Encode(vocabulary, longText, null, 100);
        var second = Encode(vocabulary, "short one", null, 100);
        var pair = Encode(vocabulary, longText, "short one", 10);
        Assert.HasCount(10, pair);
        int separator = Array.IndexOf(pair, TextVocabulary.SeparatorId);
        Assert.AreEqual(10 - 1 - second.Length, separator, "the shorter second text keeps all its tokens; the first takes the rest");
        CollectionAssert.AreEqual(first.Take(separator).ToArray(), pair.Take(separator).ToArray());
        CollectionAssert.AreEqual(second, pair.Skip(separator + 1).ToArray());

        var both = Encode(vocabulary, longText, longText, 9);
        Assert.AreEqual(4, Array.IndexOf(both, TextVocabulary.SeparatorId), "two long texts split the 8 non-separator tokens evenly");
    }

    [TestMethod]
    public void SaveLoadRoundTripsAndRejectsADamagedList()
    {
        var vocabulary = VocabularyOf("the quick brown fox jumps over the lazy dog");
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            vocabulary.Save(writer);
        stream.Position = 0;
        var loaded = TextVocabulary.Load(new BinaryReader(stream));
        CollectionAssert.AreEqual(Encode(vocabulary, "the lazy fox", null, 8), Encode(loaded, "the lazy fox", null, 8));

        using var damaged = new MemoryStream();
        using (var writer = new BinaryWriter(damaged, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("cl100k_base");
            writer.Write(2);
            writer.Write(50);
            writer.Write(40);
        }
        damaged.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => TextVocabulary.Load(new BinaryReader(damaged)));
        StringAssert.Contains(error.Message, "strictly increasing");
    }
}
