using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE Transformer text classifier from scratch (no pretrained weights, nothing downloaded): tiktoken
/// tokens remapped to the training vocabulary, a pre-norm encoder whose FFNs in the chosen blocks are DynMoE layers,
/// mean pooling, a linear head. Binary (Boolean label) or multiclass (key label), one text column or a sentence pair.
/// </summary>
public sealed class DynMoETextClassificationTrainer : DynMoEEncoderTrainerBase<DynMoETextClassificationTrainer.Options>
{
    /// <summary>Options of <see cref="DynMoETextClassificationTrainer"/>; see <see cref="DynMoEEncoderOptionsBase"/> for the network and training settings.</summary>
    public sealed class Options : DynMoEEncoderOptionsBase
    {
        /// <summary>The text column (default "Text").</summary>
        public string Sentence1ColumnName = "Text";

        /// <summary>Second text of a sentence pair, joined to the first by a separator token (default none).</summary>
        public string? Sentence2ColumnName;

        /// <summary>Most tokens per example, the pair's separator included (default 256); longer texts are truncated.</summary>
        public int MaximumSequenceLength = 256;

        /// <summary>Which tokens of a long text are kept (default <see cref="TextTruncation.Head"/>).</summary>
        public TextTruncation Truncation = TextTruncation.Head;

        /// <summary>Tokens seen fewer times in the training texts map to the unknown token (default 2).</summary>
        public int MinimumTokenCount = 2;

        internal override void Validate()
        {
            base.Validate();
            Check(!string.IsNullOrEmpty(Sentence1ColumnName), nameof(Sentence1ColumnName), Sentence1ColumnName, "must name the text column");
            Check(Sentence2ColumnName is null || Sentence2ColumnName.Length > 0, nameof(Sentence2ColumnName), Sentence2ColumnName, "must be null or name a text column");
            Check(MaximumSequenceLength is >= 1 and <= 8192, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be between 1 and 8192");
            Check(Sentence2ColumnName is null || MaximumSequenceLength >= 3, nameof(MaximumSequenceLength), MaximumSequenceLength, "must be at least 3 for a sentence pair");
            Check(Enum.IsDefined(Truncation), nameof(Truncation), Truncation, "must be Head or HeadAndTail");
            Check(MinimumTokenCount >= 1, nameof(MinimumTokenCount), MinimumTokenCount, "must be at least 1");
        }
    }

    internal DynMoETextClassificationTrainer(IHostEnvironment env, Options options, SequenceTask task)
        : base(env, options, nameof(DynMoETextClassificationTrainer), task)
    {
    }

    private protected override void CheckInputColumns(SchemaShape schema, string dataName)
        => TextSequenceInput.CheckTextColumns(schema, dataName, Settings.Sentence1ColumnName, Settings.Sentence2ColumnName);

    private protected override SequenceInput FitInput(IDataView trainData, IChannel channel, Action checkAlive)
    {
        var columns = new List<DataViewSchema.Column> { trainData.Schema[Settings.Sentence1ColumnName] };
        if (Settings.Sentence2ColumnName is string second)
            columns.Add(trainData.Schema[second]);
        var counts = new Dictionary<int, int>();
        long rows = 0;
        using (var cursor = trainData.GetRowCursor(columns))
        {
            var getters = columns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
            ReadOnlyMemory<char> text = default;
            while (cursor.MoveNext())
            {
                if ((rows++ & 255) == 0)
                    checkAlive();
                foreach (var getter in getters)
                {
                    getter(ref text);
                    foreach (int id in TextVocabulary.TokenizeToBaseIds(text.ToString()))
                        counts[id] = counts.TryGetValue(id, out int c) ? c + 1 : 1;
                }
            }
        }

        var vocabulary = TextVocabulary.FromCounts(counts, Settings.MinimumTokenCount);
        channel.Info(MessageSensitivity.None, $"DynMoE text vocabulary: {vocabulary.Size} ids ({counts.Count} distinct cl100k_base tokens in {rows} training texts, kept those seen at least {Settings.MinimumTokenCount} times).");
        return new TextSequenceInput(Settings.Sentence1ColumnName, Settings.Sentence2ColumnName, Settings.MaximumSequenceLength, Settings.Truncation, vocabulary);
    }
}
