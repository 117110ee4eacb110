using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.Transforms.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Text;

[TestClass]
public sealed class TextVocabularyTests
{
    private static readonly TextNormalization AsWritten = TextNormalization.AsWritten;

    /// <summary>A vocabulary holding every tiktoken id of <paramref name="texts"/> after <paramref name="normalization"/>.</summary>
    private static TextVocabulary VocabularyOf(TextNormalization normalization, params string[] texts)
    {
        var counts = new Dictionary<int, int>();
        foreach (var text in texts)
            foreach (int id in TextVocabulary.TokenizeToBaseIds(text, normalization))
                counts[id] = counts.GetValueOrDefault(id) + 1;
        return TextVocabulary.FromCounts(counts, 1, normalization);
    }

    private static TextVocabulary VocabularyOf(params string[] texts) => VocabularyOf(AsWritten, texts);

    private static int[] Encode(TextVocabulary vocabulary, string? first, string? second, int budget, TextTruncation truncation = TextTruncation.Head)
    {
        var buffer = new float[budget];
        int count = vocabulary.Encode(first, second, buffer, truncation);
        return buffer.Take(count).Select(v => (int)v).ToArray();
    }

    [TestMethod]
    public void CompactIdsFollowTiktokenOrderAfterTheThreeSpecialIds()
    {
        var ids = TextVocabulary.TokenizeToBaseIds(" hello world hello", AsWritten);
        Assert.HasCount(3, ids);
        Assert.AreEqual(ids[0], ids[2], "the same word piece gets the same id");
        var vocabulary = TextVocabulary.FromCounts(new Dictionary<int, int> { [ids[0]] = 2, [ids[1]] = 1 }, minimumCount: 2, AsWritten);
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
        var loaded = TextVocabulary.Load(new BinaryReader(new MemoryStream(BinaryBytes.Of(vocabulary.Save))), AsWritten);
        CollectionAssert.AreEqual(Encode(vocabulary, "the lazy fox", null, 8), Encode(loaded, "the lazy fox", null, 8));

        byte[] damaged = BinaryBytes.Of(writer =>
        {
            writer.Write("cl100k_base");
            writer.Write(2);
            writer.Write(50);
            writer.Write(40);
        });
        var error = Assert.Throws<InvalidDataException>(() => TextVocabulary.Load(new BinaryReader(new MemoryStream(damaged)), AsWritten));
        StringAssert.Contains(error.Message, "strictly increasing");
    }

    [TestMethod]
    public void NormalizationFoldsCaseAndGivesTheFirstWordItsInSentenceId()
    {
        var lower = new TextNormalization(TextNormalizingEstimator.CaseMode.Lower, LeadingSpace: true);
        Assert.AreEqual(" great movie", lower.Apply("Great Movie"));
        Assert.AreEqual(" GREAT MOVIE", new TextNormalization(TextNormalizingEstimator.CaseMode.Upper, true).Apply("Great movie"));
        Assert.AreEqual(" Great movie", new TextNormalization(TextNormalizingEstimator.CaseMode.None, true).Apply("Great movie"));
        Assert.AreEqual("\tgreat", lower.Apply("\tGreat"), "a text that starts with white space gets no extra space");
        Assert.AreEqual("", lower.Apply(""));
        Assert.AreEqual("Great Movie", AsWritten.Apply("Great Movie"));

        // As written, the sentence-initial, capitalised word is another id than the same word inside a sentence.
        var initial = TextVocabulary.TokenizeToBaseIds("Great", AsWritten);
        var inside = TextVocabulary.TokenizeToBaseIds(" great", AsWritten);
        CollectionAssert.AreNotEqual(inside.ToArray(), initial.ToArray());
        CollectionAssert.AreEqual(inside.ToArray(), TextVocabulary.TokenizeToBaseIds("Great", lower).ToArray());
        CollectionAssert.AreEqual(inside.ToArray(), TextVocabulary.TokenizeToBaseIds("GREAT", lower).ToArray());

        var vocabulary = VocabularyOf(lower, "Great movie", "the GREAT wall");
        CollectionAssert.AreEqual(Encode(vocabulary, "great Movie", null, 8), Encode(vocabulary, "GREAT MOVIE", null, 8));
        CollectionAssert.DoesNotContain(Encode(vocabulary, "GREAT MOVIE", null, 8), TextVocabulary.UnknownId, "every word of the fitted texts is known in any case");
        CollectionAssert.AreEqual(Encode(vocabulary, " great", " movie", 8), Encode(vocabulary, "Great", "Movie", 8), "both texts of a pair are normalised");
    }

    [TestMethod]
    public void TheInputRecordsItsNormalizationAndOlderFilesLoadAsWritten()
    {
        var lower = new TextNormalization(TextNormalizingEstimator.CaseMode.Lower, LeadingSpace: true);
        var input = new TextSequenceInput("Text", null, 16, TextTruncation.Head, VocabularyOf(lower, "Free money now"));
        byte[] bytes = BinaryBytes.Of(input.Save);
        Assert.AreEqual(5, BitConverter.ToInt32(bytes, 0), "kind 5: text with a normalising tokenizer");
        var loaded = (TextSequenceInput)SequenceInput.Load(new BinaryReader(new MemoryStream(bytes)));
        Assert.AreEqual(lower, loaded.Vocabulary.Normalization);
        CollectionAssert.AreEqual(Encode(input.Vocabulary, "FREE money", null, 8), Encode(loaded.Vocabulary, "FREE money", null, 8));

        // A kind-1 file is the same bytes without the normalisation (an int and a bool before the vocabulary).
        int vocabularyStart = bytes.Length - BinaryBytes.Of(input.Vocabulary.Save).Length;
        byte[] legacy = BitConverter.GetBytes(1).Concat(bytes.Skip(4).Take(vocabularyStart - 4 - 5)).Concat(bytes.Skip(vocabularyStart)).ToArray();
        var old = (TextSequenceInput)SequenceInput.Load(new BinaryReader(new MemoryStream(legacy)));
        Assert.AreEqual(TextNormalization.AsWritten, old.Vocabulary.Normalization);
        Assert.AreEqual(input.Vocabulary.Size, old.Vocabulary.Size);
        CollectionAssert.AreNotEqual(Encode(old.Vocabulary, " free", null, 4), Encode(old.Vocabulary, " FREE", null, 4), "a legacy vocabulary keeps case");
        CollectionAssert.AreEqual(Encode(input.Vocabulary, "Free", null, 4), Encode(old.Vocabulary, " free", null, 4), "the same ids, read as written");
        CollectionAssert.AreEqual(new[] { TextVocabulary.UnknownId }, Encode(old.Vocabulary, "free", null, 4), "as written, 'free' without its space is not the fitted ' free'");
        var resaved = (TextSequenceInput)SequenceInput.Load(new BinaryReader(new MemoryStream(BinaryBytes.Of(old.Save))));
        Assert.AreEqual(TextNormalization.AsWritten, resaved.Vocabulary.Normalization, "a re-saved legacy model keeps tokenizing as written");

        bytes[vocabularyStart - 5] = 9;
        var error = Assert.Throws<InvalidDataException>(() => SequenceInput.Load(new BinaryReader(new MemoryStream(bytes))));
        Assert.AreEqual("The DynMoE text model records case mode 9; the file is damaged or from a newer version.", error.Message);
    }
}
