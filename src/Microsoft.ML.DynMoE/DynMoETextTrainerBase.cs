using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the binary and multiclass DynMoE text classifiers share: the text columns and a vocabulary fitted on the
/// training texts (tiktoken tokens remapped to the training vocabulary, nothing downloaded), feeding a Transformer
/// encoder trained from scratch whose FFNs in the chosen blocks are DynMoE layers, mean pooling and a linear head; or,
/// with a pretrained encoder (<see cref="DynMoETextOptionsBase.Encoder"/>, <see cref="DynMoETextOptionsBase.PretrainedModelPath"/>),
/// the checkpoint's WordPiece tokenizer and BERT encoder with the FFNs of the chosen blocks upcycled into DynMoE
/// layers, fine-tuned through the same loop.
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
        => TextColumnsInput.CheckTextColumns(schema, dataName, Settings.Sentence1ColumnName, Settings.Sentence2ColumnName);

    private protected override SequenceInput FitInput(IDataView trainData, IChannel channel, Action checkAlive)
    {
        if (Settings.UsesPretrainedEncoder)
            return BertSequenceInput.Create(Settings.OpenPretrainedSource(), Settings.Sentence1ColumnName, Settings.Sentence2ColumnName, Settings.EffectiveMaximumSequenceLength);

        var columns = new List<DataViewSchema.Column> { trainData.Schema[Settings.Sentence1ColumnName] };
        if (Settings.Sentence2ColumnName is string second)
            columns.Add(trainData.Schema[second]);
        var normalization = new TextNormalization(Settings.CaseMode, LeadingSpace: true);
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
                    foreach (int id in TextVocabulary.TokenizeToBaseIds(text.ToString(), normalization))
                        counts[id] = counts.TryGetValue(id, out int c) ? c + 1 : 1;
                }
            }
        }

        var vocabulary = TextVocabulary.FromCounts(counts, Settings.MinimumTokenCount, normalization);
        channel.Info(MessageSensitivity.None, $"DynMoE text vocabulary: {vocabulary.Size} ids ({counts.Count} distinct cl100k_base tokens in {rows} training texts, case {Settings.CaseMode}, kept those seen at least {Settings.MinimumTokenCount} times).");
        return new TextSequenceInput(Settings.Sentence1ColumnName, Settings.Sentence2ColumnName, Settings.EffectiveMaximumSequenceLength, Settings.Truncation, vocabulary);
    }

    /// <summary>
    /// A pretrained input gets the checkpoint's encoder: the blocks <see cref="DynMoEEncoderOptionsBase.MoELayers"/> picks
    /// (counted from the last block, as for a Transformer from scratch; none with dense gating) have their FFN upcycled
    /// into <see cref="DynMoETrainerOptionsBase.MaximumExperts"/> expert slots routed by <see cref="DynMoETrainerOptionsBase.Gating"/>.
    /// </summary>
    private protected override EncoderNetworkPlan PlanNetwork(SequenceInput input, int outputs, IChannel channel)
    {
        if (input is not BertSequenceInput tokens)
            return base.PlanNetwork(input, outputs, channel);
        var source = Settings.OpenPretrainedSource();
        var checkpoint = source.ReadCheckpoint();
        var shape = checkpoint.Configuration;
        if (tokens.MaximumLength > shape.MaximumPositions)
            throw new ArgumentOutOfRangeException(nameof(DynMoETextOptionsBase.MaximumSequenceLength),
                $"MaximumSequenceLength is {tokens.MaximumLength} but the pretrained encoder holds {shape.MaximumPositions} positions. Set MaximumSequenceLength to at most {shape.MaximumPositions}.");
        if (tokens.VocabularySize != shape.VocabularySize)
            throw new InvalidOperationException($"The vocabulary of {source.Description} has {tokens.VocabularySize} word pieces but its model's token table has {shape.VocabularySize} rows; pass the vocab.txt that belongs to the model.");

        var encoderOptions = Settings.ToEncoderOptions(outputs);
        if (Settings.FineTuning == DynMoEFineTuning.FrozenEncoder)
            return PlanFrozenEncoder(source, checkpoint, outputs, encoderOptions.AuxiliaryLossWeight);

        var placement = new TransformerEncoderOptions { NumberOfLayers = shape.Layers, MoELayers = encoderOptions.MoELayers };
        int[] moeBlocks = Enumerable.Range(0, shape.Layers).Where(placement.IsMoEBlock).ToArray();
        var routing = encoderOptions.Layer;
        return new EncoderNetworkPlan(
            generator => new BertClassifier(PretrainedBertEncoder.Create(checkpoint, moeBlocks, routing, generator), outputs, encoderOptions.AuxiliaryLossWeight, generator),
            network => CompiledBertClassifier.FromNetwork((BertClassifier)network),
            $"pretrained {source.Description}, {shape.Layers} blocks of width {shape.ModelDimension}, FFNs of blocks [{string.Join(", ", moeBlocks)}] upcycled into {routing.Gating} layers of up to {routing.MaximumExperts} experts, pretrained learning rate × {Settings.PretrainedLearningRateMultiplier}",
            Settings.PretrainedLearningRateMultiplier);
    }

    /// <summary>
    /// The frozen checkpoint (dense, no upcycling) encodes every row once; one tabular DynMoE block of width
    /// <see cref="DynMoETrainerOptionsBase.ModelDimension"/> and a linear head train on the sentence embeddings.
    /// </summary>
    private EncoderNetworkPlan PlanFrozenEncoder(PretrainedBertSource source, BertCheckpoint checkpoint, int outputs, float auxiliaryLossWeight)
    {
        var shape = checkpoint.Configuration;
        var head = new MoEMlpNetworkOptions
        {
            InputDimension = shape.ModelDimension,
            OutputDimension = outputs,
            NumberOfLayers = 1,
            Layer = Settings.ToLayerOptions(),
            Dropout = Settings.Dropout,
            AuxiliaryLossWeight = auxiliaryLossWeight,
        };
        var encoder = PretrainedBertEncoder.Create(checkpoint);
        var compiled = CompiledBertEncoder.FromModule(encoder);
        return new EncoderNetworkPlan(
            generator => new MoEMlpNetwork(head, generator),
            network => new CompiledFrozenBertClassifier(compiled, CompiledMoEMlp.FromNetwork((MoEMlpNetwork)network)),
            $"frozen pretrained {source.Description} ({shape.Layers} blocks of width {shape.ModelDimension}), sentence embeddings computed once, a DynMoE head of one {head.Layer.Gating} block of width {head.Layer.ModelDimension} trains",
            MapRows: (rows, checkAlive) =>
            {
                using (encoder)
                    return FrozenBertEncoding.Pool(encoder, rows, checkAlive);
            });
    }
}
