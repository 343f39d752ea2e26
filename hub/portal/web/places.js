// places.js — points a resident can search near instead of sharing their location: the main
// stations and city halls of the demo cities (WGS 84, to about 100 m). An operator serving
// other cities edits this list; it is public information and never leaves the page except as
// SearchFacilitiesRequest.near.
export const places = [
  { id: 'chofu-st', name: { ja: '調布駅', en: 'Chofu Station', kana: 'チョウフエキ' }, latitude: 35.6518, longitude: 139.5441 },
  { id: 'chofu-hall', name: { ja: '調布市役所', en: 'Chofu City Hall', kana: 'チョウフシヤクショ' }, latitude: 35.6506, longitude: 139.5407 },
  { id: 'komae-st', name: { ja: '狛江駅', en: 'Komae Station', kana: 'コマエエキ' }, latitude: 35.6323, longitude: 139.5771 },
  { id: 'kodaira-st', name: { ja: '小平駅', en: 'Kodaira Station', kana: 'コダイラエキ' }, latitude: 35.7281, longitude: 139.4794 },
  { id: 'kodaira-hall', name: { ja: '小平市役所', en: 'Kodaira City Hall', kana: 'コダイラシヤクショ' }, latitude: 35.7285, longitude: 139.4774 },
  { id: 'higashimurayama-st', name: { ja: '東村山駅', en: 'Higashi-Murayama Station', kana: 'ヒガシムラヤマエキ' }, latitude: 35.7597, longitude: 139.4665 },
  { id: 'tanashi-st', name: { ja: '田無駅（西東京市）', en: 'Tanashi Station (Nishitokyo)', kana: 'タナシエキ' }, latitude: 35.7273, longitude: 139.5392 },
  { id: 'kiyose-st', name: { ja: '清瀬駅', en: 'Kiyose Station', kana: 'キヨセエキ' }, latitude: 35.7722, longitude: 139.5186 },
  { id: 'higashikurume-st', name: { ja: '東久留米駅', en: 'Higashi-Kurume Station', kana: 'ヒガシクルメエキ' }, latitude: 35.7586, longitude: 139.5301 },
  { id: 'itabashi-hall', name: { ja: '板橋区役所', en: 'Itabashi City Office', kana: 'イタバシクヤクショ' }, latitude: 35.7512, longitude: 139.7093 },
];
