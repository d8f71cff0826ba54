/**
 * The chat template a model is prompted with, said out loud. In order: a Jinja template given for the model
 * (`edged models add --template FILE`), the GGUF's own `tokenizer.chat_template` (through node-llama-cpp's Jinja
 * support, or the built-in wrapper it recognizes as equivalent), Ollama's template layer (a Go template: read as
 * the built-in format its markers name), and last a format guessed from the model's name and architecture. Each
 * step that fails says why, and a fallback is always reported as one, never silently a raw prompt.
 */
import {
  ChatMLChatWrapper,
  GemmaChatWrapper,
  GeneralChatWrapper,
  JinjaTemplateChatWrapper,
  Llama2ChatWrapper,
  Llama3ChatWrapper,
  MistralChatWrapper,
  resolveChatWrapper,
  type ChatWrapper,
  type GgufFileInfo,
  type Tokenizer,
} from "node-llama-cpp";
import type { TemplateOverride } from "../../models/entry.js";

export interface TemplateChoice {
  wrapper: ChatWrapper;
  /** Which template, from where; with the reasons earlier choices were passed over. */
  description: string;
  /** Not a template the model or its store gave: a guess. */
  fallback: boolean;
}

export interface TemplateInput {
  fileInfo: GgufFileInfo;
  filename?: string;
  tokenizer?: Tokenizer;
  bosString?: string | null;
  override?: TemplateOverride;
}

/** A template that cannot render a plain exchange is no template. */
function renders(wrapper: ChatWrapper): ChatWrapper {
  wrapper.generateContextState({ chatHistory: [{ type: "system", text: "s" }, { type: "user", text: "u" }, { type: "model", response: [] }] });
  return wrapper;
}

/** The built-in format an Ollama Go template's markers name, if any. */
function fromOllamaTemplate(text: string): ChatWrapper | undefined {
  if (text.includes("<|im_start|>")) return new ChatMLChatWrapper();
  if (text.includes("<|start_header_id|>")) return new Llama3ChatWrapper();
  if (text.includes("<start_of_turn>")) return new GemmaChatWrapper();
  if (text.includes("<<SYS>>")) return new Llama2ChatWrapper();
  if (text.includes("[INST]")) return new MistralChatWrapper();
  return undefined;
}

const why = (error: unknown) => (error as Error).message.split("\n")[0];

export function chooseChatTemplate(input: TemplateInput): TemplateChoice {
  const passed: string[] = [];
  const { override, tokenizer } = input;
  const said = (description: string) => [...passed, description].join("; ");
  if (override?.kind === "jinja") {
    try {
      return { wrapper: renders(new JinjaTemplateChatWrapper({ template: override.text, tokenizer })), description: said(`the Jinja template from ${override.from}`), fallback: false };
    } catch (error) {
      passed.push(`the template from ${override.from} fails to render (${why(error)})`);
    }
  }
  const own = input.fileInfo.metadata?.tokenizer?.chat_template;
  if (typeof own === "string" && own.trim() !== "") {
    try {
      const wrapper = resolveChatWrapper({ fileInfo: input.fileInfo, filename: input.filename, tokenizer, bosString: input.bosString, warningLogs: false, fallbackToOtherWrappersOnJinjaError: false });
      if (wrapper) {
        renders(wrapper);
        const as = wrapper instanceof JinjaTemplateChatWrapper ? "" : ` (recognized as ${wrapper.wrapperName})`;
        return { wrapper, description: said(`the file's own chat template${as}`), fallback: false };
      }
    } catch (error) {
      passed.push(`the file's chat template fails to render (${why(error)})`);
    }
  } else {
    passed.push("the file has no chat template");
  }
  if (override?.kind === "ollama") {
    const wrapper = fromOllamaTemplate(override.text);
    if (wrapper) return { wrapper, description: said(`Ollama's template layer, read as ${wrapper.wrapperName}`), fallback: false };
    passed.push("Ollama's template layer names no format edged knows");
  }
  const guessed = resolveChatWrapper({ fileInfo: input.fileInfo, filename: input.filename, tokenizer, bosString: input.bosString, warningLogs: false, noJinja: true });
  if (guessed && !(guessed instanceof GeneralChatWrapper)) return { wrapper: guessed, description: said(`falling back to ${guessed.wrapperName}, guessed from the model's name and architecture`), fallback: true };
  return { wrapper: new GeneralChatWrapper(), description: said("falling back to edged's generic chat format (General)"), fallback: true };
}

/** Why a Jinja chat template cannot be used, or undefined when it renders a plain exchange. */
export function jinjaTemplateProblem(template: string): string | undefined {
  try {
    renders(new JinjaTemplateChatWrapper({ template }));
    return undefined;
  } catch (error) {
    return why(error);
  }
}
