using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the binary and multiclass DynMoE text classifiers share: the text columns and a vocabulary fitted on the
/// training texts (tiktoken tokens remapped to the training vocabulary, nothing downloaded), feeding a Transformer
/// encoder trained from scratch whose FFNs in the chosen blocks are DynMoE layers, mean pooling and a linear head.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class DynMoETextTrainerBase<TOptions> : DynMoEEncoderTrainerBase<TOptions>
    where TOptions : DynMoETextOptionsBase
{
    private protected DynMoETextTrainerBase(IHostEnvironment env, TOptions options, string name, ClassificationTask task)
        : base(env, options, name, task)
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
