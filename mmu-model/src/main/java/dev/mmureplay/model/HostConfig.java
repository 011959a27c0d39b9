package dev.mmureplay.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resolved host configuration: the {@link ModelConfig} a run uses and, per host setting, where its value came
 * from. Precedence, per setting: {@code given} (the CLI's {@code --host}) &gt; {@code header} (the traces'
 * {@link HostHeader}) &gt; {@code inferred} ({@link HostInference}) &gt; {@code default} (the recording host of the
 * shared traces, {@link ModelConfig#DEFAULT}). Immutable.
 *
 * @param config     the base config with every given, header and inferred value applied
 * @param sources    source per setting key, for every key of {@link HostSettings#KEYS}
 * @param evidence   the evidence of each setting whose source is {@code inferred}
 * @param overridden inferences that lost to a given or header value that differs (key → "inferred X (evidence)")
 * @param ambiguous  settings the trace showed evidence for two values of (from {@link HostInference.Result})
 */
public record HostConfig(ModelConfig config, Map<String, String> sources,
                         Map<String, HostInference.Evidence> evidence, Map<String, String> overridden,
                         List<String> ambiguous) {

    public static final String GIVEN = "given";
    public static final String HEADER = "header";
    public static final String INFERRED = "inferred";
    public static final String DEFAULT = "default";

    public HostConfig {
        sources = Map.copyOf(sources);
        evidence = Map.copyOf(evidence);
        overridden = Map.copyOf(overridden);
        ambiguous = List.copyOf(ambiguous);
    }

    /**
     * Resolves {@code base} with the given ({@code --host}), header and inferred settings by precedence.
     *
     * @throws IllegalArgumentException a bad given or header key or value (message names the setting)
     */
    public static HostConfig resolve(ModelConfig base, Map<String, String> given, Map<String, String> header,
                                     HostInference.Result inferred) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        Map<String, HostInference.Evidence> evidence = new LinkedHashMap<>();
        Map<String, String> overridden = new LinkedHashMap<>();
        for (String key : HostSettings.KEYS) {
            HostInference.Inferred inf = inferred.get(key);
            String value;
            String source;
            if (given.containsKey(key)) {
                value = given.get(key);
                source = GIVEN;
            } else if (header.containsKey(key)) {
                value = header.get(key);
                source = HEADER;
            } else if (inf != null) {
                value = inf.value();
                source = INFERRED;
                evidence.put(key, inf.evidence());
            } else {
                sources.put(key, DEFAULT);
                continue;
            }
            if (inf != null && !source.equals(INFERRED) && !inf.value().equalsIgnoreCase(value.trim())) {
                overridden.put(key, "the trace shows " + key + "=" + inf.value() + " (" + inf.evidence() + ")");
            }
            values.put(key, value);
            sources.put(key, source);
        }
        for (String key : given.keySet()) {
            if (!HostSettings.KEYS.contains(key)) {
                HostSettings.apply(base, Map.of(key, given.get(key)));   // throws: unknown setting
            }
        }
        return new HostConfig(HostSettings.apply(base, values), sources, evidence, overridden,
                inferred.ambiguous());
    }

    /** Only given settings applied (no header, nothing inferred). */
    public static HostConfig given(ModelConfig base, Map<String, String> given) {
        return resolve(base, given, Map.of(), HostInference.Result.NONE);
    }

    /** The source of {@code key} ({@link #DEFAULT} for unknown keys). */
    public String source(String key) {
        return sources.getOrDefault(key, DEFAULT);
    }

    /** {@link ModelConfig#settings()} with each setting's source from this resolution. */
    public List<ModelConfig.Setting> settings() {
        List<ModelConfig.Setting> out = new ArrayList<>();
        for (ModelConfig.Setting s : config.settings()) {
            String src = sources.containsKey(s.name()) ? sources.get(s.name()) : s.source();
            out.add(new ModelConfig.Setting(s.name(), s.value(), src, s.modelled(), s.note()));
        }
        return out;
    }

    /**
     * Every setting that is not a default, as {@code key=value} in {@link HostSettings#KEYS} order — what a job
     * option or another run needs to build the same {@link ModelConfig} from {@code ModelConfig.DEFAULT}.
     */
    public Map<String, String> explicitSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        for (ModelConfig.Setting s : config.settings()) {
            if (!source(s.name()).equals(DEFAULT)) {
                out.put(s.name(), s.value());
            }
        }
        return out;
    }
}
