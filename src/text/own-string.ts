// A text as its own flat string. A slice or concatenation keeps the whole text it was cut from
// alive for as long as it is held; a round trip through JSON makes a fresh copy.

export const ownString = (text: string): string => JSON.parse(JSON.stringify(text)) as string;
